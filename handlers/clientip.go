package handlers

import (
	"bytes"
	"net/netip"

	"github.com/gofiber/fiber/v2"
)

const localClientIP = "client_ip"

// clientIP is the address of the person behind the request: what is
// recorded with acknowledgments, consents and audit events, and the key of
// every per-address limit. The web layer asks here, never c.IP().
//
// A request straight from a client is that client's, whatever it writes
// in X-Forwarded-For. A request from a trusted proxy is the client's the
// proxy saw: each proxy appends the address it was reached from, so the
// list is read from the right, past the trusted proxies, and the first
// address that is not one of them is the client. Everything left of that
// was written by the client and is ignored, so varying it changes nothing.
// An entry that is not an address stops the walk at the last good one: what
// lies beyond it cannot be told apart from what a client wrote.
func (h *Handler) clientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(localClientIP).(string); ok {
		return ip
	}
	ip := h.forwardedFor(c).String()
	c.Locals(localClientIP, ip)
	return ip
}

func (h *Handler) forwardedFor(c *fiber.Ctx) netip.Addr {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return netip.IPv4Unspecified()
	}
	addr := peer.Unmap()
	if !h.trustedProxy(addr) {
		return addr
	}
	// Several X-Forwarded-For lines are one list, in the order they came.
	var list []byte
	for i, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, v...)
	}
	for len(list) > 0 {
		entry := list
		if i := bytes.LastIndexByte(list, ','); i >= 0 {
			entry, list = list[i+1:], list[:i]
		} else {
			list = nil
		}
		next, err := netip.ParseAddr(string(bytes.TrimSpace(entry)))
		if err != nil {
			break
		}
		addr = next.Unmap().WithZone("")
		if !h.trustedProxy(addr) {
			break
		}
	}
	return addr
}

// trustedProxy reports whether addr is one of PORTAL_TRUSTED_PROXIES.
func (h *Handler) trustedProxy(addr netip.Addr) bool {
	for _, p := range h.Config.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
