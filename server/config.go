package server

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"portal/app"
	"portal/app/store"
	"portal/handlers"
)

// Config is everything read from the environment, once, at start-up. The
// README lists every variable with its default.
type Config struct {
	Host          string
	Port          int
	DB            string
	BaseURL       string
	Secret        string // PORTAL_SECRET itself, or
	SecretFile    string // a file holding it (PORTAL_SECRET_FILE)
	LogKeyFile    string // the evidence log's private key (PORTAL_LOG_KEY)
	CheckpointDir string // where every checkpoint is copied as a file (optional)
	MailMode      string // "" (SMTP, or the development mailbox in demo) or "log" (no mail, only logged)
	TimeZone      *time.Location
	// ShutdownGrace is how long requests in flight may finish on shutdown (default 10 s).
	ShutdownGrace time.Duration
	PassMark      int
	Synchronous   string
	// DBConns is the size of the database pool: SQLite's read pool, or the
	// PostgreSQL pool each node keeps (PORTAL_DB_CONNS; 0 for the default).
	DBConns        int
	LogFormat      string
	SMTPHost       string
	SMTPPort       int
	SMTPUsername   string
	SMTPPassword   string
	SMTPTLS        string
	MailFrom       string
	SSOHeader      string
	SSOProxies     []netip.Prefix
	TrustedProxies []netip.Prefix // proxies whose X-Forwarded-For is believed (PORTAL_TRUSTED_PROXIES)
	PolicyVersion  string
	Demo           bool
	SMTPConns      int
	Schedule       app.Schedule
	RemindEvery    time.Duration
	// Exports (certificate ZIPs, CSV, XLSX): how many run at once, how long
	// a client may take to read each piece, how long one may take in all.
	ExportsAtOnce      int
	ExportWriteTimeout time.Duration
	ExportTimeLimit    time.Duration
	// SweepEvery is how often expired sessions and sign-in links are
	// removed (default 5 minutes; not read from the environment).
	SweepEvery time.Duration
	// SMTPTimeout is all the time one message may take (PORTAL_SMTP_TIMEOUT, default 30 s).
	SMTPTimeout time.Duration
	// MailLease is how long the mail worker's claim on a message lasts
	// unless renewed (PORTAL_MAIL_LEASE, default 30 s): a worker that dies
	// hands its messages over after that long.
	MailLease time.Duration
	// OrgName, OrgLogo and HelpEmail say who runs the portal and where to
	// ask for help (PORTAL_ORG_NAME, PORTAL_ORG_LOGO, PORTAL_HELP_EMAIL; see branding.go).
	OrgName   string
	OrgLogo   *handlers.Logo
	HelpEmail string
	// APIRatePerMinute is how many calls each API token may make a minute
	// (PORTAL_API_RATE, default 600; 0 here means the default).
	APIRatePerMinute int
	// MetricsToken opens /metrics to `Authorization: Bearer TOKEN`
	// (PORTAL_METRICS_TOKEN; unset, /metrics is off); MetricsAddr is a
	// listener of its own that serves only the metrics, without a token
	// (PORTAL_METRICS_ADDR, e.g. 127.0.0.1:9464: for a private network).
	MetricsToken string
	MetricsAddr  string
	// OIDC is sign-in with the agency's OpenID Connect provider (the
	// PORTAL_OIDC_* variables; off when PORTAL_OIDC_ISSUER is unset), and
	// EmailLinksOff turns sign-in links by e-mail off (PORTAL_EMAIL_LINKS=off).
	OIDC          handlers.OIDCConfig
	EmailLinksOff bool
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func envInt(name string, def, lo, hi int) (int, error) {
	v := env(name, strconv.Itoa(def))
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d, not %q", name, lo, hi, v)
	}
	return n, nil
}

// LoadConfig reads the configuration from the environment, refusing any
// value it cannot use with a message that names the variable.
func LoadConfig(demo bool) (*Config, error) {
	c := &Config{Demo: demo}
	for _, load := range []func() error{c.loadServer, c.loadKeys, c.loadMail, c.loadSSO, c.loadSchedule, c.loadExports, c.loadBranding, c.loadMetrics, c.loadOIDC} {
		if err := load(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// loadServer reads where the portal listens and keeps its data.
func (c *Config) loadServer() error {
	var err error
	defHost := "0.0.0.0"
	if c.Demo {
		defHost = "127.0.0.1"
	}
	c.Host = env("PORTAL_HOST", defHost)
	if c.Port, err = envInt("PORT", 3000, 1, 65535); err != nil {
		return err
	}
	c.DB = env("PORTAL_DB", "data/portal.db")
	c.BaseURL = strings.TrimRight(env("PORTAL_BASE_URL", fmt.Sprintf("http://127.0.0.1:%d", c.Port)), "/")
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("PORTAL_BASE_URL must start with http:// or https://, not %q", c.BaseURL)
	}
	if c.TimeZone, err = time.LoadLocation(env("PORTAL_TIMEZONE", "America/New_York")); err != nil {
		return fmt.Errorf("PORTAL_TIMEZONE: %w", err)
	}
	if c.PassMark, err = envInt("PORTAL_PASS_MARK", 80, 1, 100); err != nil {
		return err
	}
	c.Synchronous = strings.ToUpper(env("PORTAL_SYNCHRONOUS", "NORMAL"))
	if c.DBConns, err = envInt("PORTAL_DB_CONNS", 0, 0, 1000); err != nil {
		return err
	}
	defLog := "json"
	if c.Demo {
		defLog = "human" // someone at a terminal: short lines, the sign-in links last
	}
	c.LogFormat = env("PORTAL_LOG_FORMAT", defLog)
	if c.LogFormat != "json" && c.LogFormat != "text" && c.LogFormat != "human" {
		return fmt.Errorf("PORTAL_LOG_FORMAT: %q is not json, text or human", c.LogFormat)
	}
	c.PolicyVersion = env("PORTAL_POLICY_VERSION", "2026.2")
	c.TrustedProxies, err = envPrefixes("PORTAL_TRUSTED_PROXIES")
	return err
}

// envPrefixes reads a comma-separated list of addresses and CIDR ranges; a
// single address is a range of one. An entry that is neither is refused,
// naming the variable: a typo must not quietly trust no one, or everyone.
func envPrefixes(name string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.Split(env(name, ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("%s: %q is not an address or CIDR range", name, p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, prefix.Masked())
	}
	return out, nil
}

// loadExports reads the limits on exports.
func (c *Config) loadExports() error {
	var err error
	if c.ExportsAtOnce, err = envInt("PORTAL_EXPORTS_AT_ONCE", 2, 1, 16); err != nil {
		return err
	}
	for _, d := range []struct {
		name, def string
		dest      *time.Duration
	}{{"PORTAL_EXPORT_WRITE_TIMEOUT", "60s", &c.ExportWriteTimeout}, {"PORTAL_EXPORT_TIME_LIMIT", "30m", &c.ExportTimeLimit}} {
		if *d.dest, err = time.ParseDuration(env(d.name, d.def)); err != nil || *d.dest <= 0 {
			return fmt.Errorf("%s must be a duration such as %s", d.name, d.def)
		}
	}
	return c.loadAPI()
}

// loadAPI reads the API's limit per token.
func (c *Config) loadAPI() error {
	var err error
	c.APIRatePerMinute, err = envInt("PORTAL_API_RATE", defaultAPIRate, 1, 100_000)
	return err
}

// defaultAPIRate is the calls an API token may make a minute: ten a second,
// enough to page through 13,000 people in seconds, not enough for one
// system to hold the writer (each call is an audit event).
const defaultAPIRate = 600

// loadKeys reads where the portal's secret and the log key are; the demo
// keeps both beside its database, made on first run.
func (c *Config) loadKeys() error {
	c.Secret = env("PORTAL_SECRET", "")
	if c.Secret != "" && len(c.Secret) < 32 {
		return fmt.Errorf("PORTAL_SECRET must be at least 32 characters")
	}
	c.SecretFile = env("PORTAL_SECRET_FILE", "")
	c.LogKeyFile = env("PORTAL_LOG_KEY", "")
	c.CheckpointDir = env("PORTAL_CHECKPOINT_DIR", "")
	if c.Demo {
		dir := filepath.Dir(c.DB)
		if store.IsPostgres(c.DB) {
			dir = "data" // the demo's keys stay on this machine, as with SQLite
		}
		if c.LogKeyFile == "" {
			c.LogKeyFile = filepath.Join(dir, "log.key")
		}
		if c.Secret == "" && c.SecretFile == "" {
			c.SecretFile = filepath.Join(dir, "secret.key")
		}
	}
	return nil
}

// loadMail reads how mail is sent.
func (c *Config) loadMail() error {
	var err error
	c.MailMode = strings.ToLower(env("PORTAL_MAIL", ""))
	if c.MailMode != "" && c.MailMode != "log" {
		return fmt.Errorf("PORTAL_MAIL must be empty (send through PORTAL_SMTP_HOST) or log, not %q", c.MailMode)
	}
	c.SMTPHost = env("PORTAL_SMTP_HOST", "")
	if c.SMTPPort, err = envInt("PORTAL_SMTP_PORT", 587, 1, 65535); err != nil {
		return err
	}
	c.SMTPUsername = env("PORTAL_SMTP_USERNAME", "")
	c.SMTPPassword = env("PORTAL_SMTP_PASSWORD", "")
	c.SMTPTLS = strings.ToLower(env("PORTAL_SMTP_TLS", "starttls"))
	switch c.SMTPTLS {
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("PORTAL_SMTP_TLS must be none, starttls or tls, not %q", c.SMTPTLS)
	}
	c.MailFrom = env("PORTAL_MAIL_FROM", "Social Media Policy Portal <no-reply@portal.invalid>")
	if c.SMTPConns, err = envInt("PORTAL_SMTP_CONNECTIONS", 2, 1, 16); err != nil {
		return err
	}
	if c.SMTPTimeout, err = envDuration("PORTAL_SMTP_TIMEOUT", "30s", time.Second, 10*time.Minute); err != nil {
		return err
	}
	c.MailLease, err = envDuration("PORTAL_MAIL_LEASE", "30s", time.Second, 10*time.Minute)
	return err
}

func envDuration(name, def string, lo, hi time.Duration) (time.Duration, error) {
	v := env(name, def)
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("%s must be a duration from %s to %s, such as %s, not %q", name, lo, hi, def, v)
	}
	return d, nil
}

// loadSSO reads the single sign-on header and the proxies trusted to set it.
func (c *Config) loadSSO() error {
	c.SSOHeader = env("PORTAL_SSO_HEADER", "")
	var err error
	if c.SSOProxies, err = envPrefixes("PORTAL_SSO_PROXIES"); err != nil {
		return err
	}
	if c.SSOHeader != "" && len(c.SSOProxies) == 0 {
		return fmt.Errorf("PORTAL_SSO_HEADER is set but PORTAL_SSO_PROXIES is empty: the header would be trusted from no one")
	}
	return nil
}

// loadSchedule reads when reminders go out.
func (c *Config) loadSchedule() error {
	var err error
	c.Schedule = app.Schedule{}
	for _, p := range strings.Split(env("PORTAL_REMIND_BEFORE", "14,7,1"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 365 {
			return fmt.Errorf("PORTAL_REMIND_BEFORE must list days from 1 to 365, such as 14,7,1")
		}
		c.Schedule.Before = append(c.Schedule.Before, n)
	}
	if c.Schedule.OverdueEvery, err = envInt("PORTAL_REMIND_OVERDUE_EVERY", 7, 0, 365); err != nil {
		return err
	}
	if c.Schedule.EscalateAfter, err = envInt("PORTAL_ESCALATE_AFTER", 7, 0, 365); err != nil {
		return err
	}
	if c.RemindEvery, err = time.ParseDuration(env("PORTAL_REMIND_INTERVAL", "1h")); err != nil || c.RemindEvery < 0 {
		return fmt.Errorf("PORTAL_REMIND_INTERVAL must be a duration such as 1h or 30m (0 turns it off)")
	}
	return nil
}

// minMetricsToken is the shortest metrics token taken: long enough that
// guessing it over the network is hopeless.
const minMetricsToken = 24

// loadMetrics reads how the metrics are reached.
func (c *Config) loadMetrics() error {
	c.MetricsToken = env("PORTAL_METRICS_TOKEN", "")
	if c.MetricsToken != "" && len(c.MetricsToken) < minMetricsToken {
		return fmt.Errorf("PORTAL_METRICS_TOKEN must be at least %d characters (make one with `openssl rand -hex 32`)", minMetricsToken)
	}
	if strings.ContainsAny(c.MetricsToken, " \t") {
		return fmt.Errorf("PORTAL_METRICS_TOKEN must not contain spaces")
	}
	c.MetricsAddr = env("PORTAL_METRICS_ADDR", "")
	if c.MetricsAddr != "" {
		host, port, err := net.SplitHostPort(c.MetricsAddr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return fmt.Errorf("PORTAL_METRICS_ADDR must be an address and port such as 127.0.0.1:9464, not %q", c.MetricsAddr)
		}
		if host == "" {
			return fmt.Errorf("PORTAL_METRICS_ADDR must name the address to listen on, such as 127.0.0.1:9464 or a private one: " +
				"the metrics listener takes no token, so it must not face the Internet")
		}
	}
	return nil
}
