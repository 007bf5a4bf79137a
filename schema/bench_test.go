package schema

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkValidateAdapter measures schema validation of one parsed Adapter.
func BenchmarkValidateAdapter(b *testing.B) {
	set, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	doc := decodeB(b, goodAdapter)
	b.ReportAllocs()
	for b.Loop() {
		if v, err := set.Validate("Adapter", doc); err != nil || len(v) > 0 {
			b.Fatal(err, v)
		}
	}
}

// BenchmarkValidateGenerated validates every adapter of the repository named
// by CAIRN_BENCH_REPO (made by bench/gen); it is skipped without one.
func BenchmarkValidateGenerated(b *testing.B) {
	dir := os.Getenv("CAIRN_BENCH_REPO")
	if dir == "" {
		b.Skip("set CAIRN_BENCH_REPO to a generated repository (bench/validate.sh KEEP=1)")
	}
	set, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "adapters", "*.json"))
	var docs []any
	for _, f := range files[:min(len(files), 2000)] {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, decodeB(b, string(data)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if v, err := set.Validate("Adapter", docs[i%len(docs)]); err != nil || len(v) > 0 {
			b.Fatal(err, v)
		}
	}
}
