package behalf

import "testing"

// Ensure UserOfKey reads back every User's Key, refuses what is not one,
// and Display names users without the storage key's length prefix.
func TestUserOfKey(t *testing.T) {
	for _, u := range []User{{"", "alice"}, {"https://idp.example.com/p_1", "f7fc2e4c"}, {"http://127.0.0.1:31847/us-east-1_x", ""}, {"a:b", "c:d"}} {
		got, ok := UserOfKey(u.Key())
		if !ok || got != u {
			t.Errorf("UserOfKey(%q) = %+v, %v; want %+v", u.Key(), got, ok, u)
		}
	}
	for _, bad := range []string{"", "alice", ":x", "x:y", "9:short", "-1:x", "01:ab", "99999999999:x"} {
		if u, ok := UserOfKey(bad); ok {
			t.Errorf("UserOfKey(%q) = %+v, want false", bad, u)
		}
	}
	if d := (User{"https://idp.example.com/p_1", "f7fc2e4c"}).Display(); d != "f7fc2e4c at idp.example.com/p_1" {
		t.Errorf("Display = %q", d)
	}
	if d := (User{"", "alice"}).Display(); d != "alice" {
		t.Errorf("Display of a user id = %q", d)
	}
}

func FuzzUserOfKey(f *testing.F) {
	f.Add("0:alice")
	f.Add("27:https://idp.example.com/p_1f7fc2e4c")
	f.Fuzz(func(t *testing.T, key string) {
		u, ok := UserOfKey(key)
		if ok && u.Key() != key {
			t.Fatalf("UserOfKey(%q) = %+v, whose Key is %q", key, u, u.Key())
		}
	})
}
