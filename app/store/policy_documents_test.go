package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
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

// TestDocumentTamperingIsCaught: the log check re-hashes every document's
// bytes against its version's list, and finds documents removed or added
// outside the portal.
func TestDocumentTamperingIsCaught(t *testing.T) {
	ctx := context.Background()
	for name, tamper := range map[string]struct {
		sql    []string
		reason string
	}{
		"changed bytes": {[]string{`DROP TRIGGER policy_documents_immutable_u`,
			`UPDATE policy_documents SET data = CAST('%PDF-1.4 forged' AS BLOB) WHERE name = 'official-policy.pdf'`}, "no longer matches the SHA-256"},
		"changed bytes and hash column": {[]string{`DROP TRIGGER policy_documents_immutable_u`,
			`UPDATE policy_documents SET data = CAST('forged' AS BLOB), size = 6, sha256 = '` + sha256Hex("forged") + `' WHERE name = 'adoption-notice.txt'`}, "no longer matches the SHA-256"},
		"a removed document": {[]string{`DROP TRIGGER policy_documents_immutable_d`, `DELETE FROM policy_documents WHERE name = 'adoption-notice.txt'`},
			"listed with the version but missing"},
		"an added document": {[]string{`INSERT INTO policy_documents (policy_version_id, name, content_type, size, sha256, data)
			SELECT policy_version_id, 'extra.pdf', content_type, size, sha256, data FROM policy_documents WHERE name = 'official-policy.pdf'`},
			"not listed with the version"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			v, err := content.LoadVersion(os.DirFS("../content"), "testdata/2026.1-documents")
			if err != nil {
				t.Fatal(err)
			}
			if err := NewPolicyService(f.db).PublishVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			for _, q := range tamper.sql {
				if _, err := f.db.write.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			rep, err := f.db.VerifyLog(ctx, evidence.VerifyOptions{Key: f.db.key})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Problem == nil || !strings.Contains(rep.Problem.Error(), tamper.reason) {
				t.Fatalf("problem %v, want a reason with %q", rep.Problem, tamper.reason)
			}
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
