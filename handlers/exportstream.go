package handlers

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/app"
)

// Exports — the certificate ZIPs and the CSV and XLSX reports — are the
// portal's long responses: a ZIP of 10,000 certificates is half a gigabyte.
// Three rules keep them from stopping everyone else: they read the database
// in short queries between writes (app.ExportService), a client that stops
// reading is cut off (a deadline on each piece written and one on the whole
// export), and only a few run at once, server-wide.
const (
	defaultExportsAtOnce      = 2
	defaultExportWriteTimeout = 60 * time.Second
	defaultExportTimeLimit    = 30 * time.Minute
)

// errExportsBusy is the answer past the number of exports at once.
var errExportsBusy = app.Errorf(app.ETOOMANY, "The portal is busy preparing other exports; please try again in a minute.")

// longAgo is a write deadline already passed: every write on the connection,
// one blocked at that moment included, fails at once.
var longAgo = time.Unix(1, 0)

// exportGate holds one token per export running, up to the limit.
type exportGate chan struct{}

func newExportGate(n int) exportGate {
	if n <= 0 {
		n = defaultExportsAtOnce
	}
	return make(exportGate, n)
}

// exportSlot is an export's place at the gate. It is held from the handler
// to the end of the stream, which fasthttp writes after the handler returns.
type exportSlot struct {
	gate      exportGate
	once      sync.Once
	streaming bool // handed over to a stream, which releases it
}

// enterExport takes a place for an export, or refuses with a clear 429.
func (h *Handler) enterExport(c *fiber.Ctx) (*exportSlot, error) {
	select {
	case h.exports <- struct{}{}:
		return &exportSlot{gate: h.exports}, nil
	default:
		h.Logger.Warn("export refused: the exports at once are all running", "request_id", requestID(c),
			"path", logPath(c), "at_once", cap(h.exports))
		c.Set(fiber.HeaderRetryAfter, "60")
		return nil, errExportsBusy
	}
}

func (s *exportSlot) release() { s.once.Do(func() { <-s.gate }) }

// done is deferred by the handler: it frees the place unless a stream has
// taken it over (the handler failed, or answered without streaming).
func (s *exportSlot) done() {
	if !s.streaming {
		s.release()
	}
}

// exportDeadline moves the connection's write deadline as an export writes:
// each piece must be taken by the client within the write timeout, and
// nothing after the export's end. fasthttp sets one deadline for a whole
// response, before it starts writing, so without this a streamed body
// could only have one deadline for the whole download.
type exportDeadline struct {
	mu   sync.Mutex
	conn net.Conn
	each time.Duration
	end  time.Time
	cut  bool
}

func (d *exportDeadline) extend() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return
	}
	t := time.Now().Add(d.each)
	if t.After(d.end) {
		t = d.end
	}
	// An error means the connection is closed already; the next write says so.
	_ = d.conn.SetWriteDeadline(t)
}

// stop cuts the connection: the write in progress and any after it fail, so
// the response ends without its last chunk and the client cannot take a
// truncated file for a whole one.
func (d *exportDeadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	_ = d.conn.SetWriteDeadline(longAgo) // closed already: nothing left to cut
}

// exportWriter moves the deadline before each write and remembers the first
// write error (the client's side) apart from the export's own errors.
type exportWriter struct {
	w   *bufio.Writer
	d   *exportDeadline
	n   int64
	err error
}

func (w *exportWriter) Write(p []byte) (int, error) {
	w.d.extend()
	n, err := w.w.Write(p)
	w.n += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *exportWriter) flush() error {
	w.d.extend()
	if err := w.w.Flush(); err != nil {
		if w.err == nil {
			w.err = err
		}
		return err
	}
	return nil
}

// streamExport sends an export's body through write, which runs after the
// handler returns (fasthttp runs it in a goroutine of its own and copies its
// output to the connection). It keeps the export's place until it ends, and
// it cuts the connection, logged, when the client stops reading for the
// write timeout, when the export passes its time limit, or when write fails.
func (h *Handler) streamExport(c *fiber.Ctx, slot *exportSlot, what string, write func(ctx context.Context, w io.Writer) error) {
	each, limit := h.Config.ExportWriteTimeout, h.Config.ExportTimeLimit
	if each <= 0 {
		each = defaultExportWriteTimeout
	}
	if limit <= 0 {
		limit = defaultExportTimeLimit
	}
	start := time.Now()
	d := &exportDeadline{conn: c.Context().Conn(), each: each, end: start.Add(limit)}
	// The connection closes after the export, so the deadlines moved here
	// never reach a next request on it.
	c.Context().SetConnectionClose()
	id, user := requestID(c), currentUser(c).ID
	// The body is written after the handler returns, so it must not use the
	// request's context (released by then).
	ctx, cancel := context.WithDeadline(context.Background(), d.end)
	slot.streaming = true
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		defer slot.release()
		defer cancel()
		// A client that reads nothing blocks the writes without end; this
		// fails the blocked write once the time is up.
		timer := time.AfterFunc(limit, d.stop)
		defer timer.Stop()
		w := &exportWriter{w: bw, d: d}
		err := write(ctx, w)
		if err == nil {
			err = w.flush()
		}
		if err == nil {
			return
		}
		d.stop()
		log := []any{"request_id", id, "export", what, "user_id", user, "bytes", w.n, "elapsed", time.Since(start).Round(time.Millisecond)}
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || !time.Now().Before(d.end):
			h.Logger.Warn("export cut: it ran past its time limit", append(log, "limit", limit)...)
		case w.err != nil:
			h.Logger.Warn("export cut: the client went away or stopped reading for longer than the write timeout",
				append(log, "write_timeout", each, "err", w.err)...)
		default:
			h.Logger.Error("export failed mid-stream", append(log, "err", err)...)
		}
	})
}
