package e2e

import (
	"io"
	"mime"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"portal/server"
)

// mailServer is a real SMTP server on 127.0.0.1 for the tests. It can be
// stopped and started again on the same port, and told to refuse.
type mailServer struct {
	mu       sync.Mutex
	addr     string
	ln       *outageListener
	received []string        // raw messages
	to       []string        // their recipients
	tempFail map[string]int  // address → how many more 451 answers
	permFail map[string]bool // address → 550
	// mailFail, when set, is the answer to every MAIL FROM, such as a
	// relay's 530 "Authentication required".
	mailFail *smtp.SMTPError
	// hold, when set, keeps every DATA waiting, its message read but not
	// answered, until release; held counts them.
	hold   chan struct{}
	accept bool // what release answers: 250 (the message counts as received) or 451
	held   int
	// hang, when set, says which messages (raw) are never answered: the
	// server hangs on their DATA until the test ends; hung counts them.
	hang   func(raw string) bool
	hung   int
	closed chan struct{} // closed when the test ends
}

func (s *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{s: s}, nil }

type mailSession struct {
	s  *mailServer
	to string
}

func (x *mailSession) Mail(string, *smtp.MailOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.mailFail != nil {
		return x.s.mailFail
	}
	return nil
}
func (x *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.permFail[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	if x.s.tempFail[strings.ToLower(to)] > 0 {
		x.s.tempFail[strings.ToLower(to)]--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.to = to
	return nil
}
func (x *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	if x.s.hang != nil && x.s.hang(string(b)) {
		x.s.hung++
		x.s.mu.Unlock()
		<-x.s.closed
		return &smtp.SMTPError{Code: 421, Message: "shutting down"}
	}
	if hold := x.s.hold; hold != nil {
		x.s.held++
		x.s.mu.Unlock()
		select {
		case <-hold:
		case <-x.s.closed:
		}
		x.s.mu.Lock()
		if !x.s.accept {
			x.s.mu.Unlock()
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
	}
	defer x.s.mu.Unlock()
	x.s.received = append(x.s.received, string(b))
	x.s.to = append(x.s.to, strings.ToLower(x.to))
	return nil
}
func (x *mailSession) Reset()        {}
func (x *mailSession) Logout() error { return nil }

// startMailServer starts an SMTP server on a fresh port for the test. stop
// and start make it go down and come back on the same listener, which
// stays open for the whole test: no port is ever bound twice.
func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &mailServer{tempFail: map[string]int{}, permFail: map[string]bool{}, addr: ln.Addr().String(),
		ln: &outageListener{Listener: ln, conns: map[net.Conn]bool{}}, closed: make(chan struct{})}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(s.ln) }()
	t.Cleanup(func() { close(s.closed); srv.Close(); <-done })
	return s
}

// holdData makes every DATA wait until release.
func (s *mailServer) holdData() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = make(chan struct{})
}

// release answers the held DATA — accepted, or refused with a 451 — and
// stops holding.
func (s *mailServer) release(accept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accept = accept
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// heldNow returns how many DATA have been held, and hungNow how many hang.
func (s *mailServer) heldNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func (s *mailServer) hungNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hung
}

// stop takes the server down: connections open now are closed and new
// ones are closed as soon as they are accepted, as a mail server that is
// down refuses them.
func (s *mailServer) stop() { s.ln.setDown(true) }

// start brings it back.
func (s *mailServer) start() { s.ln.setDown(false) }

// outageListener hands connections to the SMTP server while up; while
// down it closes them at once.
type outageListener struct {
	net.Listener
	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func (l *outageListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		down := l.down
		if !down {
			l.conns[c] = true
		}
		l.mu.Unlock()
		if !down {
			return c, nil
		}
		_ = c.Close()
	}
}

func (l *outageListener) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
	if down {
		for c := range l.conns {
			_ = c.Close()
		}
		clear(l.conns)
	}
}

// count returns how many messages reached addr.
func (s *mailServer) count(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, to := range s.to {
		if to == strings.ToLower(addr) {
			n++
		}
	}
	return n
}

func (s *mailServer) messagesTo(addr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i, to := range s.to {
		if to == strings.ToLower(addr) {
			out = append(out, s.received[i])
		}
	}
	return out
}

func (s *mailServer) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// withSMTP points a test portal at the mail server.
func withSMTP(s *mailServer) func(*server.Config) {
	return func(c *server.Config) {
		c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.SMTPConns = "127.0.0.1", s.port(), "none", 2
	}
}

// subjectOf decodes a raw message's Subject header.
func subjectOf(t *testing.T, raw string) string {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// subjectLine is the decoded Subject of a raw message ("" if it has none
// or cannot be read).
func subjectLine(raw string) string {
	m, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return ""
	}
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return ""
	}
	return s
}
