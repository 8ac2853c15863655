package version

import (
	"os"
	"regexp"
	"testing"
)

// The version is kept in one place, Number; CHANGELOG.md's newest release
// must be it, so a release cannot ship with a stale User-Agent.
func TestNumberIsTheNewestReleaseInTheChangelog(t *testing.T) {
	b, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("CHANGELOG.md has no released version (## [x.y.z] - YYYY-MM-DD)")
	}
	if got := string(m[1]); got != Number {
		t.Errorf("CHANGELOG.md's newest release is %s; version.Number is %s", got, Number)
	}
	if !regexp.MustCompile(`(?m)^## \[Unreleased\]$`).Match(b) {
		t.Error("CHANGELOG.md has no [Unreleased] section for the changes since")
	}
}
