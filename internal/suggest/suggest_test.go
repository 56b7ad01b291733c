package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"issue", "isue", 1}, {"same", "same", 0}} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	valid := []string{"digitalSignature", "keyEncipherment", "serverAuth"}
	for _, tc := range []struct {
		got  string
		max  int
		want string
	}{
		{"digitalSignatur", 2, "digitalSignature"},
		{"DIGITALSIGNATURE", 0, "digitalSignature"}, // case does not count
		{"serverauth", 1, "serverAuth"},
		{"nothingLikeIt", 3, ""},
		{"serverAth", 0, ""}, // one edit, none allowed
	} {
		if got := Closest(tc.got, valid, tc.max); got != tc.want {
			t.Errorf("Closest(%q, max %d) = %q, want %q", tc.got, tc.max, got, tc.want)
		}
	}
}
