package history

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type failing struct{}

func (failing) Append(context.Context, Record) error { return errors.New("store down") }

func TestTeeAndLog(t *testing.T) {
	var buf bytes.Buffer
	mem := &Memory{}
	tee := Tee{failing{}, Log{Logger: slog.New(slog.NewTextHandler(&buf, nil))}, mem}
	err := tee.Append(context.Background(), Record{Event: AdapterInstalled, Adapter: "lse", Environment: "prod",
		Outcome: Succeeded, HelmVersion: 3, ValuesDigest: "sha256:abc"})
	if err == nil || err.Error() != "store down" {
		t.Errorf("Tee returned %v, want the first error", err)
	}
	if got := mem.Records(); len(got) != 1 || got[0].Adapter != "lse" {
		t.Errorf("a failing recorder stopped the others: %+v", got)
	}
	line := buf.String()
	for _, want := range []string{"event=adapter.installed", "adapter=lse", "environment=prod", "helmVersion=3"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
}
