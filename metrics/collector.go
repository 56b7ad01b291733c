package metrics

import (
	"bytes"
	"context"
	"crypto/x509"
	"io/fs"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certmint/certmint/crl"
)

var (
	caLabels = []string{"ca", "role"}

	caTimeToExpiry = prometheus.NewDesc("certmint_ca_certificate_time_to_expiry_seconds",
		"Seconds until the CA certificate's notAfter (negative once it has expired); every certificate it issued fails with it.",
		caLabels, nil)
	caNotAfter = prometheus.NewDesc("certmint_ca_certificate_not_after_timestamp_seconds",
		"The CA certificate's notAfter, in seconds since the Unix epoch.",
		caLabels, nil)
	crlPublished = prometheus.NewDesc("certmint_crl_published",
		"1 when the served folder holds the CA's CRL (<ca>.crl) and it parses and carries the CA's signature; 0 when it is missing, unreadable or signed by another key, and validators that check revocation refuse the CA's certificates.",
		caLabels, nil)
	crlTimeToNextUpdate = prometheus.NewDesc("certmint_crl_time_to_next_update_seconds",
		"Seconds until the served CRL's nextUpdate (negative once past it, when validators refuse every certificate of the CA).",
		caLabels, nil)
	crlNextUpdate = prometheus.NewDesc("certmint_crl_next_update_timestamp_seconds",
		"The served CRL's nextUpdate, in seconds since the Unix epoch.",
		caLabels, nil)
	crlThisUpdate = prometheus.NewDesc("certmint_crl_this_update_timestamp_seconds",
		"The served CRL's thisUpdate (when it was last signed, less 5 minutes for validators whose clock is behind), in seconds since the Unix epoch.",
		caLabels, nil)
	crlEntries = prometheus.NewDesc("certmint_crl_revoked_entries",
		"Revoked certificates the served CRL lists.",
		caLabels, nil)
	certificates = prometheus.NewDesc("certmint_certificates",
		"Certificates issued by the CA (the CA certificates excluded), by state (valid, expired, revoked) and template.",
		[]string{"state", "template"}, nil)
	expiring = prometheus.NewDesc("certmint_certificates_expiring_within_30_days",
		"Valid certificates whose notAfter is less than 30 days away, by template.",
		[]string{"template"}, nil)
	databaseUp = prometheus.NewDesc("certmint_database_up",
		"1 when the issuance database answered the count of certificates at this scrape, else 0 (the certificate counts are then missing).",
		nil, nil)
)

// dbTimeout bounds the count query of one scrape (Prometheus gives up on
// a scrape after 10 s by default).
const dbTimeout = 8 * time.Second

// authority is one CA the metrics describe.
type authority struct {
	slug, role string
	cert       *x509.Certificate
}

// crlState is what a served CRL says, kept while its file is unchanged.
type crlState struct {
	file       fs.FileInfo // of the file read: a new CRL is a new file (Publish renames one in place)
	issuer     []byte      // the certificate its signature was checked against
	ok         bool
	thisUpdate time.Time
	nextUpdate time.Time
	entries    int
}

type collector struct {
	o Options

	mu     sync.Mutex
	crls   map[string]crlState // by CA slug
	dbDown bool
}

func newCollector(o Options) *collector {
	return &collector{o: o, crls: map[string]crlState{}}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{caTimeToExpiry, caNotAfter, crlPublished, crlTimeToNextUpdate, crlNextUpdate,
		crlThisUpdate, crlEntries, certificates, expiring, databaseUp} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	now := c.o.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	cas := c.authorities()
	c.mu.Lock()
	seen := map[string]bool{}
	for _, a := range cas {
		gauge(caTimeToExpiry, a.cert.NotAfter.Sub(now).Seconds(), a.slug, a.role)
		gauge(caNotAfter, unix(a.cert.NotAfter), a.slug, a.role)
		st := c.readCRL(a)
		seen[a.slug] = true
		if !st.ok {
			gauge(crlPublished, 0, a.slug, a.role)
			continue
		}
		gauge(crlPublished, 1, a.slug, a.role)
		gauge(crlTimeToNextUpdate, st.nextUpdate.Sub(now).Seconds(), a.slug, a.role)
		gauge(crlNextUpdate, unix(st.nextUpdate), a.slug, a.role)
		gauge(crlThisUpdate, unix(st.thisUpdate), a.slug, a.role)
		gauge(crlEntries, float64(st.entries), a.slug, a.role)
	}
	for slug := range c.crls { // a CA that left the folder
		if !seen[slug] {
			delete(c.crls, slug)
		}
	}
	c.mu.Unlock()

	s := c.o.Store
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	counts, err := s.DB.CountByTemplate(ctx, now, now.Add(ExpiringWindow))
	c.mu.Lock()
	wasDown := c.dbDown
	c.dbDown = err != nil
	c.mu.Unlock()
	if err != nil {
		if !wasDown {
			c.o.Logf("metrics: %v (certmint_database_up is 0 until it answers again)", err)
		}
		gauge(databaseUp, 0)
		return
	}
	if wasDown {
		c.o.Logf("metrics: the issuance database answers again")
	}
	gauge(databaseUp, 1)
	for tmpl, n := range counts {
		gauge(certificates, float64(n.Valid), "valid", tmpl)
		gauge(certificates, float64(n.Expired), "expired", tmpl)
		gauge(certificates, float64(n.Revoked), "revoked", tmpl)
		gauge(expiring, float64(n.Expiring), tmpl)
	}
}

// authorities are the CAs to describe: the home's root and issuing CA, or
// without a home every CA certificate of the served folder, its role told
// by its place in the folder's hierarchy.
func (c *collector) authorities() []authority {
	if s := c.o.Store; s != nil {
		return []authority{{s.Root.Slug, "root", s.Root.Cert}, {s.Issuing.Slug, "issuing", s.Issuing.Cert}}
	}
	infos, err := crl.ScanCerts(c.o.Dir)
	if err != nil {
		return nil
	}
	var out []authority
	for _, i := range infos {
		if i.Cert.IsCA {
			out = append(out, authority{i.Slug, roleOf(i), i.Cert})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].slug < out[j].slug })
	return out
}

// roleOf names a CA's place in a served folder in one word.
func roleOf(i *crl.CAInfo) string {
	switch {
	case i.IsRoot():
		return "root"
	case i.Parent == nil: // its issuer is not in the folder
		return "ca"
	}
	for _, k := range i.Children {
		if k.Cert.IsCA {
			return "intermediate"
		}
	}
	return "issuing"
}

// readCRL reads the served CRL of a, as crl.Handler serves it, parsing it
// again only when its file or the CA certificate changed. c.mu is held.
func (c *collector) readCRL(a authority) crlState {
	root, err := os.OpenRoot(c.o.Dir)
	if err != nil {
		return crlState{}
	}
	defer root.Close()
	name := a.slug + ".crl"
	prev, cached := c.crls[a.slug]
	if st, err := root.Stat(name); err == nil && cached && sameFile(prev, st) && bytes.Equal(prev.issuer, a.cert.Raw) {
		return prev
	}
	data, st, err := crl.ReadServed(root, name)
	if err != nil {
		delete(c.crls, a.slug)
		return crlState{}
	}
	out := crlState{file: st, issuer: a.cert.Raw}
	if rl, err := crl.Parse(data); err == nil && rl.CheckSignatureFrom(a.cert) == nil {
		out.ok, out.thisUpdate, out.nextUpdate, out.entries = true, rl.ThisUpdate, rl.NextUpdate, len(rl.RevokedCertificateEntries)
	}
	c.crls[a.slug] = out
	return out
}

// sameFile: the same inode, unchanged. The inode tells apart two CRLs
// published within one tick of a coarse file clock, at the same size.
func sameFile(prev crlState, st fs.FileInfo) bool {
	return os.SameFile(prev.file, st) && st.ModTime().Equal(prev.file.ModTime()) && st.Size() == prev.file.Size()
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
