//! The client's address: ONE rule for every surface (device endpoints, the API, the dashboard,
//! login throttling, the audit log and log lines).
//!
//! The address is the TCP peer. `X-Forwarded-For` is believed only when `--trust-forwarded-for`
//! is on AND the peer is one of `--trusted-proxies` (default: loopback); then the list is read
//! from the right, skipping the trusted proxies, and the first other address is the client (the
//! entries to its left were written by the client and prove nothing). A malformed entry ends
//! the walk at the last trusted hop.

use std::net::IpAddr;

use actix_web::{web, HttpRequest};

use crate::config::ServeArgs;
use crate::http::State;

/// An address block (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (addr, prefix) = raw.split_once('/').map_or((raw, None), |(a, p)| (a, Some(p)));
        let network: IpAddr = addr.parse().map_err(|_| format!("{raw:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{raw:?}: bad prefix"))?,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Which peers may speak for the client through `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct ProxyTrust {
    /// Empty: the header is never believed.
    proxies: Vec<Cidr>,
}

impl ProxyTrust {
    /// From `--trust-forwarded-for` and `--trusted-proxies`; a malformed block is an error.
    pub fn from_config(args: &ServeArgs) -> Result<Self, String> {
        if !args.trust_forwarded_for {
            return Ok(Self::default());
        }
        let proxies = args.trusted_proxies.split(',').filter(|s| !s.trim().is_empty()).map(Cidr::parse);
        Ok(Self { proxies: proxies.collect::<Result<_, _>>()? })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|c| c.contains(ip))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` values in order.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else { return client };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// The client's address under the server's rule (the peer when the app state is missing).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let Some(ctx) = req.app_data::<web::Data<State>>() else { return Some(peer.to_string()) };
    let forwarded: Vec<&str> =
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    Some(ctx.proxy_trust.client(peer, &forwarded).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trust(blocks: &[&str]) -> ProxyTrust {
        ProxyTrust { proxies: blocks.iter().map(|b| Cidr::parse(b).unwrap()).collect() }
    }

    #[test]
    fn blocks_match_their_addresses_only() {
        let lan = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(lan.contains(ip("10.1.200.3")) && !lan.contains(ip("10.2.0.1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("127.0.0.0/8").unwrap().contains(ip("::ffff:127.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer_and_from_the_right() {
        let none = ProxyTrust::default();
        assert_eq!(none.client(ip("127.0.0.1"), &["203.0.113.9"]), ip("127.0.0.1"));
        let local = trust(&["127.0.0.0/8"]);
        assert_eq!(local.client(ip("192.168.1.5"), &["203.0.113.9"]), ip("192.168.1.5"), "peer not a proxy");
        assert_eq!(local.client(ip("127.0.0.1"), &["203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(local.client(ip("127.0.0.1"), &["6.6.6.6, 203.0.113.9"]), ip("203.0.113.9"), "spoofed left part");
        let chain = trust(&["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(chain.client(ip("127.0.0.1"), &["6.6.6.6", "203.0.113.9, 10.0.0.2"]), ip("203.0.113.9"));
        assert_eq!(local.client(ip("127.0.0.1"), &["junk"]), ip("127.0.0.1"), "malformed: the last trusted hop");
        assert_eq!(local.client(ip("127.0.0.1"), &[]), ip("127.0.0.1"));
    }
}
