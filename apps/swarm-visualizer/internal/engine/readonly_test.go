package engine

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The package's own source is the guarantee that the visualizer never changes the swarm: one
// place sends requests (Client.get), and it only sends GET.
func TestSourceIsReadOnly(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	forbidden := regexp.MustCompile(`http\.Method(Post|Put|Patch|Delete)|"(POST|PUT|PATCH|DELETE)"|http\.Post|\.PostForm|\.Head\(`)
	sends := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if m := forbidden.FindString(src); m != "" {
			t.Errorf("%s uses %s: the engine client must only read", f, m)
		}
		sends += strings.Count(src, ".Do(")
		if n := strings.Count(src, "http.NewRequest"); n > 0 && !strings.Contains(src, "http.NewRequestWithContext(ctx, http.MethodGet,") {
			t.Errorf("%s builds a request that is not a GET", f)
		}
	}
	if sends != 1 {
		t.Errorf("requests are sent from %d places, want exactly 1 (Client.get)", sends)
	}
}
