package behalf

import "testing"

func TestPrincipal(t *testing.T) {
	root := Principal{Name: RootPrincipal}
	agent := Principal{Name: WorkloadPrincipal("drive-agent")}
	for _, c := range []struct {
		p        Principal
		workload string
		root     bool
		own      string
		may      bool
	}{
		{root, "drive-agent", true, "", true},
		{agent, "drive-agent", false, "drive-agent", true},
		{agent, "drive-agent-2", false, "drive-agent", false},
		{agent, "drive", false, "drive-agent", false},
		{Principal{Name: "workload/"}, "", false, "", false},
		{Principal{Name: "rootx"}, "rootx", false, "", false},
		{Principal{}, "", false, "", false},
	} {
		if got := c.p.IsRoot(); got != c.root {
			t.Errorf("%q IsRoot = %v", c.p.Name, got)
		}
		if w, ok := c.p.Workload(); w != c.own || ok != (c.own != "") {
			t.Errorf("%q Workload = %q, %v", c.p.Name, w, ok)
		}
		if got := c.p.MayActFor(c.workload); got != c.may {
			t.Errorf("%q MayActFor(%q) = %v, want %v", c.p.Name, c.workload, got, c.may)
		}
	}
}
