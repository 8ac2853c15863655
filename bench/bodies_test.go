package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/complykit/complykit-go/gen/stenn"
	"github.com/complykit/complykit-go/stennapi/stenntest"
)

// companiesJSON is what the servers here answer to GET /v1/companies: n
// companies in Stenn's list wrapper, cycling through the fake's two sample
// companies (about 520 bytes each), each with its own id.
func companiesJSON(n int) []byte {
	samples := stenntest.SampleCompanies()
	list := stenn.CompanyList{Object: "list", Data: make([]stenn.Company, n)}
	for i := range list.Data {
		c := samples[i%len(samples)]
		if i >= len(samples) {
			c.Id = fmt.Sprintf("%s_%07d", c.Id, i)
		}
		list.Data[i] = c
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic(err)
	}
	return b
}

// companiesBody is the body of the peer benchmarks: the fake's two sample
// companies, about 1 KB.
var companiesBody = companiesJSON(2)

// A body names the Go type a contender decodes the companies into; the
// JSON on the wire is the same.
type body string

const (
	// bodyStenn is the generated model stennapi returns (gen/stenn): every
	// optional field is a pointer, so each one present costs an allocation.
	bodyStenn body = "stenn"
	// bodyPlain is a small plain struct with the same JSON fields and no
	// pointer fields, what a hand-written client would declare.
	bodyPlain body = "plain"
)

var bodies = []body{bodyStenn, bodyPlain}

type plainList struct {
	Object string         `json:"object"`
	Data   []plainCompany `json:"data"`
}

type plainCompany struct {
	ID      string    `json:"id"`
	Object  string    `json:"object"`
	Name    string    `json:"name"`
	Website string    `json:"website"`
	Created time.Time `json:"created"`
	Address struct {
		City        string `json:"city"`
		CountryCode string `json:"country_code"`
		State       string `json:"state"`
		Street      string `json:"street"`
	} `json:"address"`
	BuyerLimit struct {
		ID             string  `json:"id"`
		Company        string  `json:"company"`
		TotalLimit     float64 `json:"total_limit"`
		AvailableLimit float64 `json:"available_limit"`
		Status         string  `json:"status"`
	} `json:"buyer_limit"`
	Contacts struct {
		Object string         `json:"object"`
		Data   []plainContact `json:"data"`
	} `json:"contacts"`
}

type plainContact struct {
	ID                 string `json:"id"`
	Object             string `json:"object"`
	FirstName          string `json:"first_name"`
	LastName           string `json:"last_name"`
	Email              string `json:"email"`
	Phone              string `json:"phone"`
	IsSignatory        bool   `json:"is_signatory"`
	IsRequestRecipient bool   `json:"is_request_recipient"`
}

// A reader reads a response body whole: io.ReadAll (readAll) or the
// pooled, pre-sized buffer (readPooled). It returns the body and a
// function that gives its buffer back.
type reader func(r io.Reader, contentLength int64) ([]byte, func(), error)

// readAll is what a typical user writes.
func readAll(r io.Reader, _ int64) ([]byte, func(), error) {
	b, err := io.ReadAll(r)
	return b, func() {}, err
}

var rawPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readPooled is the floor for a client that reads the body whole: a
// pooled bytes.Buffer, grown once to the Content-Length (plus the
// bytes.MinRead that ReadFrom wants free, so it never grows again), and
// kept in the pool whatever its size. complykit reads a short body the same
// way (internal/apiclient).
func readPooled(r io.Reader, contentLength int64) ([]byte, func(), error) {
	buf := rawPool.Get().(*bytes.Buffer)
	buf.Reset()
	if contentLength > 0 {
		buf.Grow(int(contentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), func() { rawPool.Put(buf) }, err
}

// decode reads resp's body with read (whole, so the connection is reused,
// as stennapi's is) and unmarshals it into the model of kind, returning
// the number of companies.
func decode(kind body, read reader, resp *http.Response, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, done, err := read(resp.Body, resp.ContentLength)
	defer done()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	switch kind {
	case bodyStenn:
		var list stenn.CompanyList
		err := json.Unmarshal(b, &list)
		return len(list.Data), err
	default:
		var list plainList
		err := json.Unmarshal(b, &list)
		return len(list.Data), err
	}
}

// memPerCall counts, as testing.AllocsPerRun does (GOMAXPROCS 1, one
// warm-up call first), the heap allocations and bytes of one call to f,
// averaged over runs. Counts are exact: a test can compare them.
func memPerCall(runs int, f func()) (allocs, bytes float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs), float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}
