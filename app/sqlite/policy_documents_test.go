package sqlite

import (
	"bytes"
	"context"
	"os"
	"testing"

	"portal/app"
	"portal/app/content"
	"portal/app/evidence"
)

// TestPolicyDocuments: a version's official documents are stored with it,
// listed with the version, read back byte for byte, never changed, and
// refused when their stored bytes no longer match the published hash.
func TestPolicyDocuments(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	policies := NewPolicyService(f.db)
	v, err := content.LoadVersion(os.DirFS("../content"), "testdata/2026.1-documents")
	if err != nil {
		t.Fatal(err)
	}
	if err := policies.PublishVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	// A fresh service: nothing from the publishing call is cached.
	fresh := NewPolicyService(f.db)
	got, err := fresh.FindVersionByCode(ctx, v.Code)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Documents) != 2 || got.Documents[0].Data != nil || content.VersionSHA256(got) != v.SHA256 {
		t.Fatalf("stored version: documents %+v, hash %s want %s", got.Documents, content.VersionSHA256(got), v.SHA256)
	}
	for _, want := range v.Documents {
		d, err := fresh.FindDocument(ctx, got.ID, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d.Data, want.Data) || d.ContentType != want.ContentType || d.SHA256 != want.SHA256 {
			t.Errorf("%s: read back %d bytes %s", want.Name, len(d.Data), d.ContentType)
		}
	}
	t.Run("unknown names are not found", func(t *testing.T) {
		for _, name := range []string{"missing.pdf", "../official-policy.pdf", ""} {
			if _, err := fresh.FindDocument(ctx, got.ID, name); app.ErrorCode(err) != app.ENOTFOUND {
				t.Errorf("%q: %v, want ENOTFOUND", name, err)
			}
		}
		if _, err := fresh.FindDocument(ctx, f.version.ID, "official-policy.pdf"); app.ErrorCode(err) != app.ENOTFOUND {
			t.Errorf("another version's document: %v, want ENOTFOUND", err)
		}
	})
	t.Run("the log still verifies", func(t *testing.T) {
		rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key})
		if err != nil || rep.Problem != nil {
			t.Fatalf("problem %v err %v", rep.Problem, err)
		}
	})
	t.Run("documents refuse changes", func(t *testing.T) {
		for _, q := range []string{`UPDATE policy_documents SET data = x'00'`, `DELETE FROM policy_documents`} {
			if _, err := f.db.write.Exec(q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
	})
	t.Run("changed bytes are never served", func(t *testing.T) {
		for _, q := range []string{`DROP TRIGGER policy_documents_immutable_u`,
			`UPDATE policy_documents SET data = CAST('%PDF-1.4 forged' AS BLOB) WHERE name = 'official-policy.pdf'`} {
			if _, err := f.db.write.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		d, err := NewPolicyService(f.db).FindDocument(ctx, got.ID, "official-policy.pdf")
		if err == nil || app.ErrorCode(err) != app.EINTERNAL {
			t.Fatalf("got %v, %v; want an internal error", d, err)
		}
	})
}
