package firstamlapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complykit/complykit-go/firstamlapi"
	"github.com/complykit/complykit-go/firstamlapi/firstamltest"
)

// storage stands in for the storage host First AML redirects downloads
// to: another origin (another port), which records what it receives.
type storage struct {
	*httptest.Server
	mu    sync.Mutex
	auth  []string // the Authorization header of each request ("" if none)
	paths []string
}

func newStorage(t *testing.T, serve func(w http.ResponseWriter, r *http.Request)) *storage {
	t.Helper()
	s := &storage{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.paths = append(s.paths, r.URL.RequestURI())
		s.mu.Unlock()
		serve(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *storage) requests() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...), append([]string(nil), s.paths...)
}

// caseWithFile is the sample case with one more document, whose file
// redirects to redirect ("" serves contents from the fake).
func caseWithFile(id string, contents []byte, redirect string) firstamltest.Case {
	c := firstamltest.SampleCases()[0]
	c.Documents = []firstamltest.Document{{Type: "ENGAGEMENT_LETTER", Files: []firstamltest.File{
		{DocumentID: id, Type: "PDF", Extension: "pdf", Title: "Engagement letter", Contents: contents, RedirectURL: redirect},
	}}}
	return c
}

// contentsURL finds a file's contentsUrl through CaseDocuments, as a
// caller would.
func contentsURL(t *testing.T, c *firstamlapi.Client, caseID, documentID string) string {
	t.Helper()
	res, err := c.CaseDocuments(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	ci, ok := res.(*firstamlapi.CaseDocumentsResultCaseInformation)
	if !ok {
		t.Fatalf("CaseDocuments = %#v", res)
	}
	docs := append([]firstamlapi.DocumentFiles(nil), ci.Documents...)
	for _, ind := range ci.Individuals {
		docs = append(docs, ind.Documents...)
	}
	for _, ent := range ci.Entities {
		docs = append(docs, ent.Documents...)
	}
	for _, d := range docs {
		for _, f := range d.Files {
			if f.DocumentId != nil && *f.DocumentId == documentID {
				return *f.ContentsUrl
			}
		}
	}
	t.Fatalf("no file %s in %+v", documentID, ci)
	return ""
}

func TestDownloadDocumentFromTheAPI(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	u := contentsURL(t, c, firstamltest.SampleCaseID, firstamltest.SampleDocumentID)
	if !strings.HasPrefix(u, srv.URL+"/") {
		t.Fatalf("contentsUrl %s is not on the fake", u)
	}
	var buf bytes.Buffer
	n, err := c.DownloadDocument(context.Background(), u, &buf)
	if err != nil {
		t.Fatal(err)
	}
	want := firstamltest.SampleCases()[0].Individuals[0].Documents[0].Files[0].Contents
	if n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("downloaded %d bytes %x; want %x", n, buf.Bytes(), want)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodGet || !strings.HasPrefix(last.Header.Get("Authorization"), "Bearer ") || !strings.Contains(last.Header.Get("User-Agent"), "complykit-go/") {
		t.Errorf("the fake saw %s with headers %v; want a GET with the token and the SDK's User-Agent", last.Method, last.Header)
	}
}

// First AML may redirect a download to storage on another host: the
// redirect is followed, and the Authorization header does not follow it.
func TestDownloadDocumentRedirectDropsTheToken(t *testing.T) {
	blob := make([]byte, 256<<10)
	rand.Read(blob)
	st := newStorage(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			// As S3 does for a pre-signed URL that also carries a header.
			http.Error(w, "Only one auth mechanism allowed", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Write(blob)
	})
	srv := firstamltest.NewServer(t, firstamltest.WithCases(caseWithFile("doc-blob", nil, st.URL+"/bucket/doc-blob?X-Amz-Signature=s3cr3tsig")))
	c := newClient(t, srv)
	u := contentsURL(t, c, firstamltest.SampleCaseID, "doc-blob")

	var buf bytes.Buffer
	n, err := c.DownloadDocument(context.Background(), u, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(blob)) || !bytes.Equal(buf.Bytes(), blob) {
		t.Errorf("downloaded %d bytes; want the %d stored", n, len(blob))
	}
	auth, paths := st.requests()
	if len(auth) != 1 || auth[0] != "" || paths[0] != "/bucket/doc-blob?X-Amz-Signature=s3cr3tsig" {
		t.Errorf("storage saw Authorization %q on %q; want one request without it", auth, paths)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Status != http.StatusFound || last.Header.Get("Authorization") == "" {
		t.Errorf("the API saw status %d, Authorization %q; want a 302 to a request with the token", last.Status, last.Header.Get("Authorization"))
	}
}

// chunkWriter reports its first write, so a test can tell a streamed
// download from a buffered one.
// (The buffer is a field, not embedded: an embedded bytes.Buffer's
// ReadFrom would let io.Copy bypass Write.)
type chunkWriter struct {
	buf   bytes.Buffer
	first chan struct{}
	once  sync.Once
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.first) })
	return w.buf.Write(p)
}

// The download reaches the writer while the server is still sending: the
// storage server holds back the second half until the writer has seen the
// first, which a download buffered whole could never do.
func TestDownloadDocumentStreams(t *testing.T) {
	w := &chunkWriter{first: make(chan struct{})}
	var streamed atomic.Bool
	half := bytes.Repeat([]byte("a"), 64<<10)
	st := newStorage(t, func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Length", "131072")
		rw.Write(half)
		rw.(http.Flusher).Flush()
		select {
		case <-w.first:
			streamed.Store(true)
		case <-r.Context().Done():
			return
		}
		rw.Write(bytes.ToUpper(half))
	})
	srv := firstamltest.NewServer(t, firstamltest.WithCases(caseWithFile("doc-big", nil, st.URL+"/big")))
	c := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a safety net for a buffering bug, not a measurement
	defer cancel()
	n, err := c.DownloadDocument(ctx, srv.URL+"/documents/doc-big", w)
	if err != nil {
		t.Fatalf("%v (a download that buffers the whole body deadlocks here)", err)
	}
	if !streamed.Load() || n != 128<<10 || !bytes.Equal(w.buf.Bytes()[64<<10:], bytes.ToUpper(half)) {
		t.Errorf("streamed %v, %d bytes; want the first half written before the second was sent", streamed.Load(), n)
	}
}

func TestDownloadDocumentRefusals(t *testing.T) {
	srv := firstamltest.NewServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	st := newStorage(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "file") })

	// A contentsUrl on another origin is refused before anything is sent:
	// neither the token nor the request leaves for a host the client was
	// not configured with. The error names the origin, not the query.
	for _, u := range []string{
		st.URL + "/doc?sig=s3cr3tsig",
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/documents/" + firstamltest.SampleDocumentID + "?sig=s3cr3tsig",
	} {
		_, err := c.DownloadDocument(ctx, u, io.Discard)
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not on the API's origin") || strings.Contains(err.Error(), "s3cr3tsig") {
			t.Errorf("%s: err = %v; want a refusal naming only the origin", u, err)
		}
	}
	if auth, _ := st.requests(); len(auth) != 0 {
		t.Errorf("the other origin received %d requests", len(auth))
	}

	// WithDocumentOrigin trusts one more origin with the token.
	trusting := newClient(t, srv, firstamlapi.WithDocumentOrigin(st.URL))
	var buf bytes.Buffer
	if _, err := trusting.DownloadDocument(ctx, st.URL+"/doc", &buf); err != nil || buf.String() != "file" {
		t.Fatalf("with WithDocumentOrigin: %q, %v", buf.String(), err)
	}
	if auth, _ := st.requests(); len(auth) != 1 || !strings.HasPrefix(auth[0], "Bearer ") {
		t.Errorf("the trusted origin got Authorization %q; want the bearer token", auth)
	}
	for _, bad := range []string{"http://example.com", st.URL + "/path", "https://user:pw@example.com"} {
		if _, err := firstamlapi.NewClient("id", "secret", firstamlapi.WithDocumentOrigin(bad)); err == nil || !strings.HasPrefix(err.Error(), "firstamlapi: WithDocumentOrigin: ") {
			t.Errorf("WithDocumentOrigin(%q): err = %v", bad, err)
		}
	}

	for _, tc := range []struct {
		name   string
		client *firstamlapi.Client
		url    string
		status int
	}{
		{"unknown document", c, srv.URL + "/documents/doc-nope", http.StatusNotFound},
		{"no read-only scope", newClient(t, firstamltest.NewServer(t, firstamltest.WithScopes("case-management"))), "", http.StatusForbidden},
	} {
		u := tc.url
		if u == "" {
			u = strings.TrimSuffix(tc.client.BaseURL(), "/graphql/") + "/documents/" + firstamltest.SampleDocumentID
		}
		var buf bytes.Buffer
		n, err := tc.client.DownloadDocument(ctx, u, &buf)
		var fe *firstamlapi.Error
		if !errors.As(err, &fe) || fe.StatusCode != tc.status || n != 0 || buf.Len() != 0 || fe.RequestID == "" {
			t.Errorf("%s: %d bytes, err = %v; want a %d *Error and nothing written", tc.name, n, err, tc.status)
		}
	}
	if _, err := c.DownloadDocument(ctx, "/documents/relative", io.Discard); err == nil {
		t.Error("a relative URL was accepted")
	}
	if _, err := c.DownloadDocument(ctx, srv.URL+"/documents/x", nil); err == nil {
		t.Error("a nil writer was accepted")
	}
}

func TestDownloadDocumentFailures(t *testing.T) {
	// Storage cuts the connection after 10 of 100 bytes: the caller learns
	// how much was written.
	st := newStorage(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("0123456789"))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	srv := firstamltest.NewServer(t, firstamltest.WithCases(
		caseWithFile("doc-cut", nil, st.URL+"/cut"),
	))
	c := newClient(t, srv)
	ctx := context.Background()

	var buf bytes.Buffer
	n, err := c.DownloadDocument(ctx, srv.URL+"/documents/doc-cut", &buf)
	var fe *firstamlapi.Error
	if !errors.As(err, &fe) || n != 10 || buf.String() != "0123456789" || !strings.Contains(err.Error(), "interrupted after 10 bytes") {
		t.Errorf("cut download: %d bytes, err = %v", n, err)
	}

	// A storage host that cannot be reached: the error keeps the
	// pre-signed query out.
	srv2 := firstamltest.NewServer(t, firstamltest.WithCases(caseWithFile("doc-gone", nil, closedURL+"/gone?X-Amz-Signature=s3cr3tsig")))
	c2 := newClient(t, srv2)
	_, err = c2.DownloadDocument(ctx, srv2.URL+"/documents/doc-gone", io.Discard)
	if !errors.As(err, &fe) || fe.Err == nil || strings.Contains(err.Error(), "s3cr3tsig") {
		t.Errorf("unreachable storage: err = %v; want a transport *Error without the signature", err)
	}

	// The caller's context bounds the download.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.DownloadDocument(cctx, srv.URL+"/documents/"+firstamltest.SampleDocumentID, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}
