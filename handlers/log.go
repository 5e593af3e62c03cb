package handlers

import (
	"encoding/base64"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// The evidence log's public routes, for witnesses and anyone checking a
// certificate, without sign-in:
//
//	GET /log/checkpoint                        the latest signed checkpoint (text/plain, a C2SP tlog-checkpoint signed note)
//	GET /log/key                               the verifier key (text/plain, note format)
//	GET /log/proof/inclusion?index=I&size=N    entry I is in the tree of N entries (JSON)
//	GET /log/proof/consistency?from=M&to=N     the tree of M entries is a prefix of the tree of N (JSON)
//	GET /log/certificate/{code}                a certificate's entry and its inclusion in the latest checkpoint (JSON)
//
// Hashes are standard base64, as in the checkpoint. A bad request gets a
// 400 with {"error": "…"}; nothing here reveals more than /verify does.

// logProof is the JSON of an inclusion proof.
type logProof struct {
	Index      int64    `json:"index"`
	TreeSize   int64    `json:"tree_size"`
	LeafHash   string   `json:"leaf_hash"`
	RootHash   string   `json:"root_hash"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint,omitempty"`
}

func b64(h app.LogHash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func b64s(hs []app.LogHash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}

// logError answers a log route's bad request in JSON.
func logError(c *fiber.Ctx, err error) error {
	switch app.ErrorCode(err) {
	case app.EINVALID, app.ENOTFOUND:
		status := fiber.StatusBadRequest
		if app.ErrorCode(err) == app.ENOTFOUND {
			status = fiber.StatusNotFound
		}
		return c.Status(status).JSON(fiber.Map{"error": app.ErrorMessage(err)})
	}
	return err
}

func queryInt(c *fiber.Ctx, name string) (int64, error) {
	v := c.Query(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, app.Errorf(app.EINVALID, "%s must be a whole number.", name)
	}
	return n, nil
}

func (h *Handler) logCheckpoint(c *fiber.Ctx) error {
	cp, err := h.Log.Checkpoint(c.UserContext(), 0)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(cp.Note)
}

func (h *Handler) logKey(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(h.Log.VerifierKey() + "\n")
}

func (h *Handler) logInclusion(c *fiber.Ctx) error {
	index, err := queryInt(c, "index")
	if err != nil {
		return logError(c, err)
	}
	size, err := queryInt(c, "size")
	if err != nil {
		return logError(c, err)
	}
	p, err := h.Log.ProveInclusion(c.UserContext(), index, size)
	if err != nil {
		return logError(c, err)
	}
	return c.JSON(logProof{Index: p.Index, TreeSize: p.Size, LeafHash: b64(p.Leaf), RootHash: b64(p.Root), Proof: b64s(p.Proof)})
}

func (h *Handler) logConsistency(c *fiber.Ctx) error {
	from, err := queryInt(c, "from")
	if err != nil {
		return logError(c, err)
	}
	to, err := queryInt(c, "to")
	if err != nil {
		return logError(c, err)
	}
	p, err := h.Log.ProveConsistency(c.UserContext(), from, to)
	if err != nil {
		return logError(c, err)
	}
	return c.JSON(fiber.Map{"from": from, "to": to, "proof": b64s(p)})
}

// logCertificate gives a certificate's entry and its inclusion proof in the
// latest checkpoint, for `portal witness --certificate`.
func (h *Handler) logCertificate(c *fiber.Ctx) error {
	code, ok := app.NormalizeVerifyCode(c.Params("code"))
	if !ok {
		return logError(c, app.Errorf(app.ENOTFOUND, "No certificate has that code."))
	}
	ctx := c.UserContext()
	a, err := h.Acks.FindAcknowledgmentByCode(ctx, code)
	if err != nil {
		return logError(c, err)
	}
	if a.LogIndex < 0 {
		return logError(c, app.Errorf(app.ENOTFOUND, "That certificate has no entry in the evidence log."))
	}
	cp, err := h.Log.Checkpoint(ctx, a.LogIndex+1)
	if err != nil {
		return err
	}
	p, err := h.Log.ProveInclusion(ctx, a.LogIndex, cp.Size)
	if err != nil {
		return err
	}
	return c.JSON(logProof{Index: p.Index, TreeSize: p.Size, LeafHash: b64(p.Leaf), RootHash: b64(p.Root), Proof: b64s(p.Proof),
		Checkpoint: string(cp.Note)})
}
