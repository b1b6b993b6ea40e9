package logging

import (
	"strconv"
	"time"
)

// A dateItem is one piece of a parsed .NET custom date format
// ("yyyy-MM-dd HH:mm:ss.fff zzz"): a run of one specifier letter, or
// literal text.
type dateItem struct {
	spec  byte // 0 for literal text
	count int
	text  string
}

// standardFormats are the one-letter .NET standard formats Serilog users
// put in templates, as custom formats.
var standardFormats = map[string]string{
	"o": "yyyy-MM-ddTHH:mm:ss.fffffffzzz",
	"O": "yyyy-MM-ddTHH:mm:ss.fffffffzzz",
	"s": "yyyy-MM-ddTHH:mm:ss",
	"u": "yyyy-MM-dd HH:mm:ssZ",
}

// parseDateFormat reads a .NET custom date and time format: y M d H h m s
// f F t z are specifiers, '…' "…" and \x are literal, anything else is
// written as it is.
func parseDateFormat(f string) []dateItem {
	if std, ok := standardFormats[f]; ok {
		f = std
	}
	var items []dateItem
	lit := func(s string) {
		if n := len(items); n > 0 && items[n-1].spec == 0 {
			items[n-1].text += s
			return
		}
		items = append(items, dateItem{text: s})
	}
	for i := 0; i < len(f); {
		c := f[i]
		switch c {
		case 'y', 'M', 'd', 'H', 'h', 'm', 's', 'f', 'F', 't', 'z':
			j := i
			for j < len(f) && f[j] == c {
				j++
			}
			items = append(items, dateItem{spec: c, count: j - i})
			i = j
		case '\'', '"':
			j := i + 1
			for j < len(f) && f[j] != c {
				j++
			}
			lit(f[i+1 : min(j, len(f))])
			i = j + 1
		case '\\':
			if i+1 < len(f) {
				lit(f[i+1 : i+2])
			}
			i += 2
		default:
			lit(f[i : i+1])
			i++
		}
	}
	return items
}

func appendPadded(buf []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

func formatDate(buf []byte, items []dateItem, t time.Time) []byte {
	for _, it := range items {
		n := it.count
		switch it.spec {
		case 0:
			buf = append(buf, it.text...)
		case 'y':
			if n <= 2 {
				buf = appendPadded(buf, t.Year()%100, n)
			} else {
				buf = appendPadded(buf, t.Year(), n)
			}
		case 'M':
			switch {
			case n >= 4:
				buf = append(buf, t.Month().String()...)
			case n == 3:
				buf = append(buf, t.Month().String()[:3]...)
			default:
				buf = appendPadded(buf, int(t.Month()), n)
			}
		case 'd':
			switch {
			case n >= 4:
				buf = append(buf, t.Weekday().String()...)
			case n == 3:
				buf = append(buf, t.Weekday().String()[:3]...)
			default:
				buf = appendPadded(buf, t.Day(), n)
			}
		case 'H':
			buf = appendPadded(buf, t.Hour(), min(n, 2))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			buf = appendPadded(buf, h, min(n, 2))
		case 'm':
			buf = appendPadded(buf, t.Minute(), min(n, 2))
		case 's':
			buf = appendPadded(buf, t.Second(), min(n, 2))
		case 'f', 'F':
			n = min(n, 7)
			frac := strconv.Itoa(t.Nanosecond() + 1e9)[1 : 1+n]
			if it.spec == 'F' {
				for len(frac) > 0 && frac[len(frac)-1] == '0' {
					frac = frac[:len(frac)-1]
				}
			}
			buf = append(buf, frac...)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			buf = append(buf, ampm[:min(n, 2)]...)
		case 'z':
			_, off := t.Zone()
			sign := byte('+')
			if off < 0 {
				sign, off = '-', -off
			}
			buf = append(buf, sign)
			switch n {
			case 1:
				buf = strconv.AppendInt(buf, int64(off/3600), 10)
			case 2:
				buf = appendPadded(buf, off/3600, 2)
			default:
				buf = appendPadded(buf, off/3600, 2)
				buf = append(buf, ':')
				buf = appendPadded(buf, off%3600/60, 2)
			}
		}
	}
	return buf
}
