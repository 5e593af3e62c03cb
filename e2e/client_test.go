package e2e

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// client is a cookie-keeping HTTP client that does not follow redirects, so
// tests can assert on status codes and Location headers.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string // the last CSRF token seen in a page
}

// testTransport is shared by every test client. It keeps up to 256 idle
// connections to the portal, as that many browsers would each keep theirs;
// the default keeps 2, so concurrent clients would dial for most requests.
var testTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
	return t
}()

func newClient(t testing.TB, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Transport: testTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// response is a finished request.
type response struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	body := string(b)
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return response{Status: resp.StatusCode, Body: body, Location: resp.Header.Get("Location"), Header: resp.Header}
}

func (c *client) url(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return c.base + path
}

// get fetches a page.
func (c *client) get(path string) response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.url(path), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post submits a form with the last CSRF token seen, unless the form has its own _csrf.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	return c.postRaw(path, form)
}

// postRaw submits a form exactly as given.
func (c *client) postRaw(path string, form url.Values) response {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// signIn follows a sign-in link: the confirm page, then the POST that uses it.
func (c *client) signIn(link string) {
	c.t.Helper()
	r := c.get(link)
	if r.Status != 200 {
		c.t.Fatalf("sign-in link page: status %d", r.Status)
	}
	r = c.post(link, nil)
	if r.Status != 303 || r.Location != "/" {
		c.t.Fatalf("sign-in: status %d location %q", r.Status, r.Location)
	}
	c.get("/")
}

// cookie returns the named cookie the jar holds for the portal.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func mustContain(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// upload posts a multipart form with one file and extra fields.
func (c *client) upload(path, field, filename string, content []byte, fields map[string]string) response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if _, ok := fields["_csrf"]; !ok {
		if err := w.WriteField("_csrf", c.csrf); err != nil {
			c.t.Fatal(err)
		}
	}
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			c.t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile(field, filename)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := fw.Write(content); err != nil {
		c.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", c.url(path), &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// tryGet is get that returns transport errors instead of failing (the server may be gone).
func (c *client) tryGet(path string) (response, error) {
	req, err := http.NewRequest("GET", c.url(path), nil)
	if err != nil {
		return response{}, err
	}
	return c.tryDo(req)
}

// tryPost is postRaw that returns transport errors instead of failing.
func (c *client) tryPost(path string, form url.Values) (response, error) {
	req, err := http.NewRequest("POST", c.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.tryDo(req)
}

func (c *client) tryDo(req *http.Request) (response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}, nil
}
