package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// serveFlags returns the flags `behalf serve` defines (name → whether it
// is boolean), read from cmd/behalf/serve.go and observe.go, so the
// manifests and the unit name no flag the binary would refuse.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	var src []byte
	for _, f := range []string{"serve.go", "observe.go"} {
		b, err := os.ReadFile(filepath.Join("..", "cmd", "behalf", f))
		if err != nil && !(f != "serve.go" && errors.Is(err, fs.ErrNotExist)) {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`fs\.(\w*)Var\([^,]+,\s*"([a-z0-9-]+)"`).FindAllSubmatch(src, -1) {
		flags[string(m[2])] = string(m[1]) == "Bool"
	}
	for _, want := range []string{"listen", "data-dir", "database", "public-url", "kms"} {
		if _, ok := flags[want]; !ok {
			t.Fatalf("serve.go defines no --%s flag (found %v): update this test or the manifests", want, flags)
		}
	}
	return flags
}

// parseArgs splits serve arguments into flag → value, accepting
// --name=value, --name value, and bare boolean flags.
func parseArgs(t *testing.T, where string, args []string, known map[string]bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			t.Errorf("%s: unexpected argument %q (serve takes flags only)", where, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, ok := known[name]
		if !ok {
			t.Errorf("%s: --%s is not a flag of behalf serve", where, name)
		}
		if !hasValue && !isBool && i+1 < len(args) {
			i++
			value = args[i]
		}
		if _, dup := out[name]; dup {
			t.Errorf("%s: --%s given twice", where, name)
		}
		out[name] = value
	}
	return out
}

// manifests is every object in kubernetes/, decoded strictly.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	pdb        *policyv1.PodDisruptionBudget
	secret     *corev1.Secret
	kustomize  *kustomization
	files      map[string][]string // file → kinds
}

// kustomization is the part of kustomize's Kustomization this directory
// uses (kustomize's types are not in k8s.io/api).
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// splitYAML splits a multi-document YAML file.
func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(stripComments(doc)) != "" {
			docs = append(docs, []byte(doc))
		}
	}
	return docs
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// decodeStrict decodes one YAML document into v as the API server's
// strict field validation does: YAML → JSON refusing duplicate keys, then
// sigs.k8s.io/json, case-sensitive, refusing unknown fields (encoding/json
// alone would accept "containerport" for containerPort).
func decodeStrict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	m := &manifests{files: map[string][]string{}}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitYAML(b) {
			where := fmt.Sprintf("%s (document %d)", p, i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			m.files[filepath.Base(p)] = append(m.files[filepath.Base(p)], tm.Kind)
			var obj any
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 Deployment":
				m.deployment = set(t, where, m.deployment)
				obj = m.deployment
			case "v1 Service":
				m.service = set(t, where, m.service)
				obj = m.service
			case "policy/v1 PodDisruptionBudget":
				m.pdb = set(t, where, m.pdb)
				obj = m.pdb
			case "v1 Secret":
				m.secret = set(t, where, m.secret)
				obj = m.secret
			case "kustomize.config.k8s.io/v1beta1 Kustomization":
				m.kustomize = set(t, where, m.kustomize)
				obj = m.kustomize
			default:
				t.Fatalf("%s: unexpected %s %s", where, tm.APIVersion, tm.Kind)
			}
			if err := decodeStrict(doc, obj); err != nil {
				t.Fatalf("%s: strict decoding as %s: %v", where, tm.Kind, err)
			}
		}
	}
	if m.deployment == nil || m.service == nil || m.pdb == nil || m.secret == nil || m.kustomize == nil {
		t.Fatalf("kubernetes/ must hold a Deployment, a Service, a PodDisruptionBudget, an example Secret and a kustomization; found %v", m.files)
	}
	return m
}

// set returns a new T, failing if the kind was seen already.
func set[T any](t *testing.T, where string, cur *T) *T {
	t.Helper()
	if cur != nil {
		t.Fatalf("%s: a second %T", where, *cur)
	}
	return new(T)
}

// Ensure the strict decoding refuses what a typo would produce, so that
// TestKubernetesManifests' decoding is a real check.
func TestStrictDecodingRefusesTypos(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("kubernetes", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range []struct{ from, to string }{
		{"readinessProbe:", "readinesProbe:"},
		{"  replicas: 3", "  replicas: three"},
		{"containerPort: 8600", "containerport: 8600"},
		{"  replicas: 3", "  replicas: 3\n  replicas: 4"},
	} {
		bad := strings.Replace(string(b), typo.from, typo.to, 1)
		if bad == string(b) {
			t.Fatalf("deployment.yaml has no %q", typo.from)
		}
		if err := decodeStrict([]byte(bad), &appsv1.Deployment{}); err == nil {
			t.Errorf("%q → %q decoded without error", typo.from, typo.to)
		}
	}
}

// Ensure the Kubernetes example runs Behalf as replicas on PostgreSQL:
// every object decodes strictly into the API types, names and labels are
// valid, the selectors agree, the probes are /healthz and /readyz on the
// container's port, the database is postgres:// from the Secret, nothing
// secret is inline, and the pod runs as nonroot on a read-only root.
func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	flags := serveFlags(t)

	// kustomization lists every manifest but the example Secret.
	if m.kustomize.APIVersion != "kustomize.config.k8s.io/v1beta1" || m.kustomize.Kind != "Kustomization" {
		t.Errorf("kustomization: %s %s", m.kustomize.APIVersion, m.kustomize.Kind)
	}
	for file := range m.files {
		listed := slices.Contains(m.kustomize.Resources, file)
		switch {
		case file == "kustomization.yaml":
		case file == "secret.example.yaml" && listed:
			t.Errorf("kustomization lists the example Secret: applying it would install placeholder credentials")
		case file != "secret.example.yaml" && !listed:
			t.Errorf("kustomization does not list %s", file)
		}
	}
	for _, r := range m.kustomize.Resources {
		if _, ok := m.files[r]; !ok {
			t.Errorf("kustomization lists %s, which is not in kubernetes/", r)
		}
	}

	for _, meta := range []metav1.ObjectMeta{m.deployment.ObjectMeta, m.service.ObjectMeta, m.pdb.ObjectMeta, m.secret.ObjectMeta} {
		checkMeta(t, meta)
	}

	d := m.deployment
	spec := d.Spec
	if spec.Replicas == nil || *spec.Replicas < 2 {
		t.Fatalf("Deployment replicas unset or below 2: want several replicas on one PostgreSQL")
	}
	if spec.Selector == nil || len(spec.Selector.MatchLabels) == 0 || !subset(spec.Selector.MatchLabels, spec.Template.Labels) {
		t.Errorf("Deployment selector %v does not select its pod labels %v", spec.Selector, spec.Template.Labels)
	}
	if ru := spec.Strategy.RollingUpdate; spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("Deployment strategy %+v: want a rolling update with maxUnavailable 0", spec.Strategy)
	}
	checkLabels(t, "pod", spec.Template.Labels)
	pod := spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("pod has %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image == "" || len(c.Command) != 0 {
		t.Errorf("container image %q, command %q: want an image and its entrypoint (behalf)", c.Image, c.Command)
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("container args %q: want serve ...", c.Args)
	}
	args := parseArgs(t, "Deployment args", c.Args[1:], flags)

	// Ports and probes.
	var port *corev1.ContainerPort
	for i := range c.Ports {
		if c.Ports[i].Name == "http" {
			port = &c.Ports[i]
		}
	}
	if port == nil || port.ContainerPort != 8600 {
		t.Fatalf("container ports %+v: want http on 8600", c.Ports)
	}
	if args["listen"] != fmt.Sprintf("0.0.0.0:%d", port.ContainerPort) {
		t.Errorf("--listen=%q, want 0.0.0.0:%d (reachable from the kubelet and the Service)", args["listen"], port.ContainerPort)
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: want an HTTP GET of %s", name, path)
			return
		}
		if p.HTTPGet.Path != path {
			t.Errorf("%s probe path %q, want %s", name, p.HTTPGet.Path, path)
		}
		if !portMatches(p.HTTPGet.Port, port) {
			t.Errorf("%s probe port %s is not the container's http port", name, p.HTTPGet.Port.String())
		}
	}
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")
	if c.StartupProbe != nil {
		probe("startup", c.StartupProbe, "/healthz")
	}

	// Configuration: database and key from the Secret, no secret inline.
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s set twice", e.Name)
		}
		env[e.Name] = e
		if e.Value != "" && looksSecret(e.Name, e.Value) {
			t.Errorf("env %s has an inline value: take it from a Secret", e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if ref.Name != m.secret.Name {
				t.Errorf("env %s reads Secret %q; the example Secret is %q", e.Name, ref.Name, m.secret.Name)
			}
			if _, ok := m.secret.StringData[ref.Key]; !ok {
				t.Errorf("env %s reads key %q, which the example Secret lacks", e.Name, ref.Key)
			}
		}
	}
	fromSecret := func(name string) string {
		e, ok := env[name]
		if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("env %s: want it from a secretKeyRef", name)
			return ""
		}
		return m.secret.StringData[e.ValueFrom.SecretKeyRef.Key]
	}
	fromSecret("BEHALF_ROOT_ACCESS_KEY_ID")
	fromSecret("BEHALF_ROOT_SECRET_ACCESS_KEY")
	secretFlag := func(flag string) string {
		v := args[flag]
		ref := regexp.MustCompile(`^\$\(([A-Z0-9_]+)\)$`).FindStringSubmatch(v)
		if ref == nil {
			t.Errorf("--%s=%q: want $(ENV) of an env var from the Secret, never the value inline", flag, v)
			return ""
		}
		return fromSecret(ref[1])
	}
	if db := secretFlag("database"); !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		t.Errorf("the example database URL %q is not postgres:// (replicas need PostgreSQL; SQLite is one process)", db)
	}
	if kms := secretFlag("kms"); !strings.Contains(kms, "://") {
		t.Errorf("the example --kms %q is not a keeper URL", kms)
	}
	if pu := args["public-url"]; !strings.HasPrefix(pu, "https://") {
		t.Errorf("--public-url=%q: want the https address of the Ingress, the same for every replica", pu)
	}
	for _, a := range c.Args {
		if looksSecret("", a) {
			t.Errorf("argument %q holds a secret inline", a)
		}
	}

	// Files and security.
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm.Name
		if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) {
			t.Errorf("volume mount %s names volume %q, which the pod lacks", vm.MountPath, vm.Name)
		}
	}
	if dir := args["data-dir"]; mounts[dir] == "" {
		t.Errorf("--data-dir=%q is not a mounted volume (the root file system is read-only)", dir)
	}
	psc, sc := pod.SecurityContext, c.SecurityContext
	switch {
	case psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Errorf("pod securityContext %+v: want runAsNonRoot", psc)
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("pod seccompProfile %+v: want RuntimeDefault", psc.SeccompProfile)
	}
	switch {
	case sc == nil:
		t.Errorf("container has no securityContext")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("container: want allowPrivilegeEscalation false")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("container: want readOnlyRootFilesystem")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("container capabilities %+v: want drop ALL, add none", sc.Capabilities)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("pod: want automountServiceAccountToken false (Behalf does not call the Kubernetes API)")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("container resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}

	// Metrics, if on: on their own port, which the Service does not expose.
	if ml, ok := args["metrics-listen"]; ok {
		_, mport, _ := strings.Cut(ml, ":")
		if ml == args["listen"] || mport == fmt.Sprint(port.ContainerPort) {
			t.Errorf("--metrics-listen=%q shares the API's listener: keep the unauthenticated metrics off it", ml)
		}
		for _, sp := range m.service.Spec.Ports {
			if sp.TargetPort.String() == mport || sp.TargetPort.String() == "metrics" {
				t.Errorf("the Service exposes the metrics port %s", sp.TargetPort.String())
			}
		}
	}

	// Service: selects the pods, targets the http port.
	svc := m.service.Spec
	if len(svc.Selector) == 0 || !subset(svc.Selector, spec.Template.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Selector, spec.Template.Labels)
	}
	if len(svc.Ports) == 0 || !portMatches(svc.Ports[0].TargetPort, port) {
		t.Errorf("Service ports %+v: want a targetPort of the container's http port", svc.Ports)
	}
	if svc.SessionAffinity != "" && svc.SessionAffinity != corev1.ServiceAffinityNone {
		t.Errorf("Service sessionAffinity %s: any replica serves any request", svc.SessionAffinity)
	}

	// PodDisruptionBudget: selects the pods, lets one go at a time.
	pdb := m.pdb.Spec
	if pdb.Selector == nil || len(pdb.Selector.MatchLabels) == 0 || !subset(pdb.Selector.MatchLabels, spec.Template.Labels) {
		t.Errorf("PodDisruptionBudget selector %v does not select the pods %v", pdb.Selector, spec.Template.Labels)
	}
	if (pdb.MaxUnavailable == nil) == (pdb.MinAvailable == nil) {
		t.Errorf("PodDisruptionBudget: set one of maxUnavailable and minAvailable")
	} else if pdb.MaxUnavailable != nil && (pdb.MaxUnavailable.IntValue() < 1 || int32(pdb.MaxUnavailable.IntValue()) >= *spec.Replicas) {
		t.Errorf("PodDisruptionBudget maxUnavailable %s with %d replicas", pdb.MaxUnavailable.String(), *spec.Replicas)
	}

	// The example Secret: placeholders only.
	if m.secret.Type != corev1.SecretTypeOpaque || len(m.secret.Data) > 0 {
		t.Errorf("example Secret: want type Opaque with stringData only")
	}
	for k, v := range m.secret.StringData {
		if !strings.Contains(v, "CHANGE") {
			t.Errorf("example Secret key %s = %q: want a CHANGE-ME placeholder, never a real value", k, v)
		}
	}
}

// looksSecret reports whether an env var or argument carries a secret
// inline: a database URL, an inline key, or a secret-sounding name.
func looksSecret(name, value string) bool {
	if strings.Contains(value, "$(") {
		return false
	}
	for _, p := range []string{"postgres://", "postgresql://", "base64key://"} {
		if strings.Contains(value, p) {
			return true
		}
	}
	n := strings.ToUpper(name)
	return strings.Contains(n, "SECRET") || strings.Contains(n, "PASSWORD") || strings.Contains(n, "DATABASE") ||
		strings.Contains(n, "KMS") || strings.Contains(n, "TOKEN") || strings.Contains(n, "ACCESS_KEY")
}

func portMatches(p intstr.IntOrString, port *corev1.ContainerPort) bool {
	if p.Type == intstr.String {
		return p.StrVal == port.Name
	}
	return p.IntVal == port.ContainerPort
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func checkMeta(t *testing.T, meta metav1.ObjectMeta) {
	t.Helper()
	for _, msg := range validation.IsDNS1123Subdomain(meta.Name) {
		t.Errorf("name %q: %s", meta.Name, msg)
	}
	if meta.Namespace != "" {
		t.Errorf("%s: namespace %q set; leave it to kubectl -n / kustomize", meta.Name, meta.Namespace)
	}
	checkLabels(t, meta.Name, meta.Labels)
}

func checkLabels(t *testing.T, where string, labels map[string]string) {
	t.Helper()
	if len(labels) == 0 {
		t.Errorf("%s: no labels", where)
	}
	for k, v := range labels {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s: label key %q: %s", where, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			t.Errorf("%s: label %s value %q: %s", where, k, v, msg)
		}
	}
}

// unit is a parsed systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, b []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
			continue
		case strings.HasSuffix(line, "\\"):
			t.Fatalf("line %d: continuation lines are not used here", n)
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if _, dup := u[section]; dup {
				t.Errorf("line %d: section [%s] twice", n, section)
			}
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("line %d: %q is not KEY=VALUE inside a section", n, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// get returns the last value of key (systemd: the last assignment wins).
func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// unitKeys are the keys the unit may use, by section: a misspelt key
// (which systemd ignores with a warning) fails here even where
// systemd-analyze is not installed.
var unitKeys = map[string][]string{
	"Unit":    {"Description", "Documentation", "Wants", "After", "Requires"},
	"Install": {"WantedBy"},
	"Service": {
		"Type", "Environment", "EnvironmentFile", "ExecStart", "KillSignal", "TimeoutStopSec", "Restart", "RestartSec", "LimitNOFILE",
		"DynamicUser", "User", "Group", "StateDirectory", "StateDirectoryMode", "ReadWritePaths", "UMask",
		"NoNewPrivileges", "CapabilityBoundingSet", "AmbientCapabilities", "ProtectSystem", "ProtectHome", "PrivateTmp",
		"PrivateDevices", "PrivateUsers", "ProtectClock", "ProtectHostname", "ProtectKernelTunables", "ProtectKernelModules",
		"ProtectKernelLogs", "ProtectControlGroups", "ProtectProc", "ProcSubset", "RestrictAddressFamilies", "RestrictNamespaces",
		"RestrictRealtime", "RestrictSUIDSGID", "RemoveIPC", "LockPersonality", "MemoryDenyWriteExecute",
		"SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber", "DevicePolicy", "KeyringMode",
	},
}

// Ensure the systemd unit runs `behalf serve` on /var/lib/behalf with the
// hardening the deployment guide promises, and that systemd itself accepts
// it without a warning (systemd-analyze verify, where installed) and rates
// its exposure OK (systemd-analyze security --offline).
func TestSystemdUnit(t *testing.T) {
	path := filepath.Join("systemd", "behalf.service")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := parseUnit(t, b)
	for section, keys := range u {
		allowed, ok := unitKeys[section]
		if !ok {
			t.Errorf("unexpected section [%s]", section)
			continue
		}
		for k, vs := range keys {
			if !slices.Contains(allowed, k) {
				t.Errorf("[%s] %s: not a key this unit is expected to use (misspelt?)", section, k)
			}
			if len(vs) > 1 && k != "Environment" && k != "SystemCallFilter" {
				t.Errorf("[%s] %s set %d times", section, k, len(vs))
			}
		}
	}

	execStart := strings.Fields(u.get("Service", "ExecStart"))
	if len(execStart) < 2 || !filepath.IsAbs(execStart[0]) || filepath.Base(execStart[0]) != "behalf" || execStart[1] != "serve" {
		t.Fatalf("ExecStart=%q: want /…/behalf serve …", u.get("Service", "ExecStart"))
	}
	var args []string
	for _, a := range execStart[2:] {
		if !regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_]*$`).MatchString(a) { // $BEHALF_FLAGS: the operator's extra flags, split into words
			args = append(args, a)
		}
	}
	flags := parseArgs(t, "ExecStart", args, serveFlags(t))
	if flags["data-dir"] != "/var/lib/behalf" {
		t.Errorf("ExecStart --data-dir %q, want /var/lib/behalf", flags["data-dir"])
	}
	for _, a := range execStart {
		if looksSecret("", a) {
			t.Errorf("ExecStart holds a secret inline: %q", a)
		}
	}

	want := map[string]string{
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"StateDirectory":          "behalf",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"SystemCallArchitectures": "native",
	}
	for k, v := range want {
		if _, ok := u["Service"][k]; !ok || u.get("Service", k) != v {
			t.Errorf("[Service] %s=%q, want %q", k, u.get("Service", k), v)
		}
	}
	if u.get("Service", "DynamicUser") != "yes" && u.get("Service", "User") == "" {
		t.Errorf("[Service]: want DynamicUser=yes or a User=")
	}
	if u.get("Service", "User") == "root" {
		t.Errorf("[Service] User=root")
	}
	if !slices.Contains(strings.Fields(u.get("Service", "ReadWritePaths")), "/var/lib/behalf") {
		t.Errorf("[Service] ReadWritePaths=%q: want /var/lib/behalf", u.get("Service", "ReadWritePaths"))
	}
	if r := u.get("Service", "Restart"); r != "on-failure" && r != "always" {
		t.Errorf("[Service] Restart=%q", r)
	}
	if u.get("Install", "WantedBy") == "" {
		t.Errorf("[Install] WantedBy unset: systemctl enable would do nothing")
	}

	t.Run("systemd-analyze", func(t *testing.T) {
		sa, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed: the unit was checked by the parser above only")
		}
		// verify wants ExecStart's binary to exist: point it at this test
		// binary, in a copy of the unit.
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		copyPath := filepath.Join(dir, "behalf.service")
		body := strings.Replace(string(b), "ExecStart="+execStart[0], "ExecStart="+self, 1)
		if err := os.WriteFile(copyPath, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := run(dir, sa, "verify", "--man=no", copyPath)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		out, err = run(dir, sa, "security", "--offline=true", "--no-pager", copyPath)
		if err != nil {
			t.Fatalf("systemd-analyze security: %v\n%s", err, out)
		}
		level := regexp.MustCompile(`Overall exposure level for behalf\.service: ([0-9.]+) (\S+)`).FindStringSubmatch(out)
		if level == nil {
			t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
		}
		var score float64
		fmt.Sscan(level[1], &score)
		if score > 2.0 {
			t.Errorf("exposure %s %s, want at most 2.0:\n%s", level[1], level[2], out)
		}
		t.Logf("systemd-analyze verify: no warnings; security: exposure %s %s", level[1], level[2])
	})
}

// run runs name with args in dir and returns its combined output.
func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
