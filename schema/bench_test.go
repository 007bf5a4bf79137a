package schema

import "testing"

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
