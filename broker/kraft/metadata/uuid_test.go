package metadata

import (
	"bytes"
	"strings"
	"testing"
)

// Vectors worked out by hand: 16 bytes in 6-bit groups, base64url alphabet
// (A-Z a-z 0-9 - _), no padding.
func TestUuidText(t *testing.T) {
	cases := []struct {
		u    Uuid
		text string
	}{
		// 00 01 02 | 03 04 05 | ... -> AAEC AwQF BgcI CQoL DA0O Dw
		{Uuid{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, "AAECAwQFBgcICQoLDA0ODw"},
		// Kafka's ZERO_UUID and ONE_UUID (METADATA_TOPIC_ID)
		{ZeroUuid, "AAAAAAAAAAAAAAAAAAAAAA"},
		{OneUuid, "AAAAAAAAAAAAAAAAAAAAAQ"},
		// 0xff: 111111 -> '_' (the url alphabet's 63); the last byte 11111111 -> 111111 110000 -> "_w"
		{Uuid{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "_____________________w"},
		// 0xfb 0xef 0xbe: 111110 111110 111110 111110 -> "----" (62 is '-')
		{Uuid{0xfb, 0xef, 0xbe}, "----AAAAAAAAAAAAAAAAAA"},
	}
	for _, c := range cases {
		if got := c.u.String(); got != c.text {
			t.Errorf("% x: String = %q, want %q", c.u[:], got, c.text)
		}
		got, err := ParseUuid(c.text)
		if err != nil || got != c.u {
			t.Errorf("ParseUuid(%q) = % x, %v; want % x", c.text, got[:], err, c.u[:])
		}
	}
	// Java's url decoder also takes the padded form.
	if got, err := ParseUuid("AAECAwQFBgcICQoLDA0ODw=="); err != nil || got != cases[0].u {
		t.Errorf("padded form: % x, %v", got[:], err)
	}
	for _, bad := range []string{"", "AAECAwQFBgcICQoLDA0O", "AAECAwQFBgcICQoLDA0ODwAA", "AAECAwQFBgcICQoLDA0OD+", "AAECAwQFBgcICQoLDA0ODwAAAAAA"} {
		if u, err := ParseUuid(bad); err == nil {
			t.Errorf("ParseUuid(%q) = %v, want an error", bad, u)
		}
	}
}

func TestRandomUuidSkipsDashAndSetsVersion4(t *testing.T) {
	dash := bytes.Repeat([]byte{0xf8}, 16) // text starts with '-' even after the version bits
	good := bytes.Repeat([]byte{0x11}, 16)
	u, err := RandomUuid(bytes.NewReader(append(dash, good...)))
	if err != nil {
		t.Fatal(err)
	}
	want := Uuid{0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x41, 0x11, 0x91, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11}
	if u != want {
		t.Fatalf("RandomUuid = % x, want % x (the second draw, version 4, IETF variant)", u[:], want[:])
	}
	if _, err := RandomUuid(bytes.NewReader(nil)); err == nil {
		t.Fatal("RandomUuid from an empty reader: want an error")
	}
}

func TestRandomDirectoryIDSkipsReserved(t *testing.T) {
	reserved99 := make([]byte, 16)
	reserved99[15] = 99
	first100 := make([]byte, 16)
	first100[15] = 100
	u, err := RandomDirectoryID(bytes.NewReader(cat(make([]byte, 16), reserved99, bytes.Repeat([]byte{0xfb}, 16), first100)))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Uuid{15: 100}); u != want {
		t.Fatalf("RandomDirectoryID = %v, want %v (0, 99 and a '-' id skipped)", u, want)
	}
	if !IsReservedDirectoryID(Uuid{15: 2}) || IsReservedDirectoryID(Uuid{7: 1}) {
		t.Fatal("IsReservedDirectoryID")
	}
	for i := 0; i < 50; i++ {
		u, err := RandomUuid(nil)
		if err != nil || strings.HasPrefix(u.String(), "-") || u == ZeroUuid || u == OneUuid {
			t.Fatalf("RandomUuid = %v, %v", u, err)
		}
	}
}
