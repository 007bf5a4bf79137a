// Package netrange reasons about sets of IP ranges as sets of addresses:
// whether a union of prefixes covers a prefix, so that two /25s count as the
// /24 they make up, and 0.0.0.0/1 with 128.0.0.0/1 as all of IPv4.
package netrange

import "net/netip"

// Covers reports whether the union of set holds every address of p.
// Invalid prefixes in set are ignored; IPv4 and IPv6 never cover each other.
func Covers(set []netip.Prefix, p netip.Prefix) bool {
	if !p.IsValid() {
		return false
	}
	p = p.Masked()
	overlaps := false
	for _, q := range set {
		if !q.IsValid() || q.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
		overlaps = overlaps || q.Overlaps(p)
	}
	if !overlaps || p.Bits() >= p.Addr().BitLen() {
		return false
	}
	lo, hi := halves(p)
	return Covers(set, lo) && Covers(set, hi)
}

// halves splits p into its two prefixes one bit longer.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	b := p.Addr().AsSlice()
	bit := p.Bits()
	b[bit/8] |= 0x80 >> (bit % 8)
	hi, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(p.Addr(), bit+1), netip.PrefixFrom(hi, bit+1)
}
