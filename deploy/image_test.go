package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// imageManifest is one entry of a docker-style image tarball's
// manifest.json (what ko --tarball, crane and docker save write).
type imageManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// imageConfig is the part of the OCI image configuration checked here.
type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Env        []string          `json:"Env"`
		User       string            `json:"User"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// imageFile is a regular file of the image's file system.
type imageFile struct {
	mode fs.FileMode
	uid  int
	body []byte
}

// Ensure the container image deploy/ko/build.sh wrote is sound: set
// BEHALF_IMAGE_TARBALL to the tarball (and BEHALF_IMAGE_VERSION to the
// version built in, if known). Every blob matches its digest, the image is
// linux/amd64 and runs /ko-app/behalf as the nonroot user, carries CA
// certificates and no shell, and the binary taken out of it prints its
// version and serves /healthz and /readyz.
func TestImageTarball(t *testing.T) {
	tarball := os.Getenv("BEHALF_IMAGE_TARBALL")
	if tarball == "" {
		t.Skip("BEHALF_IMAGE_TARBALL is unset: build the image with deploy/ko/build.sh (it runs this test)")
	}
	blobs := readTar(t, tarball)
	var manifests []imageManifest
	if err := json.Unmarshal(blobs["manifest.json"], &manifests); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifests) != 1 {
		t.Fatalf("manifest.json lists %d images, want 1", len(manifests))
	}
	m := manifests[0]
	if len(m.RepoTags) == 0 {
		t.Errorf("the image has no tag")
	}

	// The config, named by its digest.
	cfgBlob, ok := blobs[m.Config]
	if !ok {
		t.Fatalf("config %s is not in the tarball", m.Config)
	}
	if got := "sha256:" + sha(cfgBlob); got != m.Config && !strings.HasSuffix(m.Config, sha(cfgBlob)) {
		t.Errorf("config digest %s does not match its name %s", got, m.Config)
	}
	var cfg imageConfig
	if err := json.Unmarshal(cfgBlob, &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64", cfg.OS, cfg.Architecture)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/ko-app/behalf"}) {
		t.Errorf("entrypoint %q, want [/ko-app/behalf]", cfg.Config.Entrypoint)
	}
	if uid, _, _ := strings.Cut(cfg.Config.User, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("user %q: want the nonroot user 65532", cfg.Config.User)
	}
	if cfg.RootFS.Type != "layers" || len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		t.Fatalf("rootfs %+v for %d layers", cfg.RootFS, len(m.Layers))
	}

	// Layers: compressed digest = name, uncompressed digest = diff_id;
	// merged into one file system.
	files := map[string]imageFile{}
	for i, name := range m.Layers {
		blob, ok := blobs[name]
		if !ok {
			t.Fatalf("layer %s is not in the tarball", name)
		}
		if base := strings.TrimSuffix(path.Base(name), ".tar.gz"); base != sha(blob) && !strings.Contains(name, sha(blob)) {
			t.Errorf("layer %s: compressed digest %s", name, sha(blob))
		}
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatalf("layer %s: %v", name, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("layer %s: %v", name, err)
		}
		if want := cfg.RootFS.DiffIDs[i]; "sha256:"+sha(raw) != want {
			t.Errorf("layer %s: uncompressed digest sha256:%s, config says %s", name, sha(raw), want)
		}
		tr := tar.NewReader(bytes.NewReader(raw))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", name, err)
			}
			p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			if h.Typeflag == tar.TypeReg {
				body, _ := io.ReadAll(tr)
				files[p] = imageFile{mode: h.FileInfo().Mode(), uid: h.Uid, body: body}
			} else {
				files[p] = imageFile{mode: h.FileInfo().Mode(), uid: h.Uid}
			}
		}
	}
	bin, ok := files["ko-app/behalf"]
	if !ok || bin.mode&0o111 == 0 || len(bin.body) == 0 {
		t.Fatalf("the image has no executable /ko-app/behalf")
	}
	if ca := files["etc/ssl/certs/ca-certificates.crt"]; !strings.Contains(string(ca.body), "BEGIN CERTIFICATE") {
		t.Errorf("the image has no CA bundle at /etc/ssl/certs/ca-certificates.crt (providers are reached over https)")
	}
	if !strings.Contains(string(files["etc/passwd"].body), ":65532:65532:") {
		t.Errorf("/etc/passwd lacks the nonroot user 65532")
	}
	if d, ok := files["var/lib/behalf"]; !ok || !d.mode.IsDir() || d.uid != 65532 {
		t.Errorf("/var/lib/behalf: want a directory owned by 65532 (the default --data-dir of the examples)")
	}
	for _, sh := range []string{"bin/sh", "bin/bash", "usr/bin/sh"} {
		if _, ok := files[sh]; ok {
			t.Errorf("the image has a shell (%s): the base is meant to hold the binary, CA certificates and nothing else", sh)
		}
	}
	t.Logf("image %v: %d layers, %d files, behalf %d bytes, user %s", m.RepoTags, len(m.Layers), len(files), len(bin.body), cfg.Config.User)

	// The binary out of the image: version, then serve.
	exe := filepath.Join(t.TempDir(), "behalf")
	if err := os.WriteFile(exe, bin.body, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("behalf version: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	// "behalf VERSION (revision …, go1.x)": the version build.sh linked in,
	// then what the toolchain recorded.
	isVersion := func(v string) bool { return got == "behalf "+v || strings.HasPrefix(got, "behalf "+v+" (") }
	if v := os.Getenv("BEHALF_IMAGE_VERSION"); v != "" && !isVersion(v) {
		t.Errorf("behalf version = %q, want %q (the version build.sh linked in)", got, "behalf "+v)
	} else if !strings.HasPrefix(got, "behalf ") {
		t.Errorf("behalf version = %q", got)
	}
	if v := cfg.Config.Labels["org.opencontainers.image.version"]; v != "" && !isVersion(v) {
		t.Errorf("behalf version %q, image label org.opencontainers.image.version %q", got, v)
	}
	serveOnce(t, exe)
}

// serveOnce runs `behalf serve` on SQLite in a temporary directory, waits
// for /healthz and /readyz, then stops it with SIGTERM.
func serveOnce(t *testing.T, exe string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var log lockedBuffer
	cmd := exec.Command(exe, "serve", "--listen", addr, "--data-dir", t.TempDir())
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range []string{"/healthz", "/readyz"} {
		for {
			resp, err := client.Get("http://" + addr + p)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-done:
				t.Fatalf("behalf serve exited: %v\n%s", waitErr, log.String())
			case <-ctx.Done():
				t.Fatalf("%s did not answer 200 in 20s", p)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("behalf serve after SIGTERM: %v\n%s", waitErr, log.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("behalf serve did not stop within 15s of SIGTERM")
	}
	t.Logf("the image's binary served /healthz and /readyz and stopped on SIGTERM")
}

// readTar returns every regular file of the tarball by name.
func readTar(t *testing.T, name string) map[string][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[h.Name]; dup {
			t.Errorf("%s: %s twice", name, h.Name)
		}
		out[h.Name] = b
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// lockedBuffer collects a process's output; String may run while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
