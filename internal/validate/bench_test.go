package validate

import (
	"context"
	"os"
	"testing"
)

// BenchmarkValidateDir validates the repository named by CAIRN_BENCH_REPO
// (for example one made by bench/gen); it is skipped without one.
func BenchmarkValidateDir(b *testing.B) {
	dir := os.Getenv("CAIRN_BENCH_REPO")
	if dir == "" {
		b.Skip("set CAIRN_BENCH_REPO to a generated repository (bench/validate.sh KEEP=1)")
	}
	v, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := v.Validate(context.Background(), os.DirFS(dir))
		if err != nil || !res.Valid() {
			b.Fatalf("err %v, findings %d", err, len(res.Findings))
		}
	}
}
