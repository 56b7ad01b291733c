package metrics

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/internal/promtest"
)

// The example files of examples/publish.
var (
	alertsFile = filepath.Join("..", "examples", "publish", "certmint-alerts.yml")
	scrapeFile = filepath.Join("..", "examples", "publish", "prometheus-certmint.yml")
)

// requirePromtoolEnv makes a missing promtool a failure instead of a skip;
// .ci/run sets it to 1 after fetching Debian's promtool.
const requirePromtoolEnv = "CERTMINT_REQUIRE_PROMTOOL"

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type scrapeConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName string `yaml:"job_name"`
	} `yaml:"scrape_configs"`
}

// readYAML decodes path into v; strict refuses keys v lacks (a misspelt
// "annotation" would otherwise go unnoticed).
func readYAML(t *testing.T, path string, v any, strict bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// exported is every metric family a home's /metrics carries, with its
// label names (and the job and instance Prometheus adds to each).
func exported(t *testing.T) map[string][]string {
	t.Helper()
	s := newHome(t, false)
	issue(t, s, "web", "a.metrics.test", 10, time.Now())
	m := New(Options{Dir: s.PublicDir(), Store: s})
	srv := httptest.NewServer(m.Mux(&crl.Handler{Dir: s.PublicDir()}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := map[string][]string{"up": {"job", "instance"}}
	for name, f := range promtest.Scrape(t, srv.URL+Path) {
		labels := []string{"job", "instance"}
		for _, l := range f.Metric[0].Label {
			labels = append(labels, l.GetName())
		}
		out[name] = labels
	}
	return out
}

var (
	metricNameRe = regexp.MustCompile(`\b(certmint_[a-z0-9_]+|up)\b`)
	labelRefRe   = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	jobRe        = regexp.MustCompile(`job="([^"]*)"`)
)

// TestAlertRules checks examples/publish's rule file without promtool:
// every metric an expression names exists, every label an annotation
// names is one of those metrics', each alert has a severity and says what
// to do, and the scrape configuration loads the file and names the job
// the rules look for.
func TestAlertRules(t *testing.T) {
	have := exported(t)
	var rules ruleFile
	readYAML(t, alertsFile, &rules, true)
	var cfg scrapeConfig
	readYAML(t, scrapeFile, &cfg, false)
	if !slices.Contains(cfg.RuleFiles, filepath.Base(alertsFile)) {
		t.Errorf("%s does not load %s (rule_files %v)", scrapeFile, filepath.Base(alertsFile), cfg.RuleFiles)
	}
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
	}
	seen := map[string]bool{}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("rule %d of group %s: alert name %q is empty or used twice", n, g.Name, r.Alert)
			}
			seen[r.Alert] = true
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: a summary and a description are needed", r.Alert)
			}
			names := metricNameRe.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s: %q names no certmint metric", r.Alert, r.Expr)
			}
			allowed := map[string]bool{}
			for _, name := range names {
				labels, ok := have[name]
				if !ok {
					t.Errorf("%s: %s is not a metric of /metrics", r.Alert, name)
				}
				for _, l := range labels {
					allowed[l] = true
				}
			}
			for _, a := range r.Annotations {
				for _, m := range labelRefRe.FindAllStringSubmatch(a, -1) {
					if !allowed[m[1]] {
						t.Errorf("%s: an annotation names $labels.%s, which %v do not carry", r.Alert, m[1], names)
					}
				}
			}
			for _, m := range jobRe.FindAllStringSubmatch(r.Expr, -1) {
				if !slices.Contains(jobs, m[1]) {
					t.Errorf("%s: job %q is not a job of %s (%v)", r.Alert, m[1], scrapeFile, jobs)
				}
			}
		}
	}
	for _, want := range []string{"CertmintCRLExpiresSoon", "CertmintCRLNotRefreshed", "CertmintCRLNotPublished",
		"CertmintCACertificateExpiresSoon", "CertmintCertificatesExpiring"} {
		if !seen[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

// TestAlertRulesPromtool checks the rule file and the scrape configuration
// with Prometheus's own promtool, and runs the rules' unit test
// (testdata/alerts_test.yml): each alert fires when it should, with the
// annotations it should have.
func TestAlertRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv(requirePromtoolEnv) == "1" {
			t.Fatalf("promtool is not in PATH and %s=1: install it (Debian: apt-get install prometheus, or extract usr/bin/promtool from its .deb as .ci/run does)", requirePromtoolEnv)
		}
		t.Skipf("promtool is not in PATH: skipping (Debian package prometheus; set %s=1 to make this a failure)", requirePromtoolEnv)
	}
	for _, args := range [][]string{
		{"check", "rules", alertsFile},
		{"check", "config", scrapeFile},
		{"test", "rules", filepath.Join("testdata", "alerts_test.yml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
