//! Which device endpoint a path names. Paths are matched by suffix so a URL prefix configured on
//! the device (or added by a proxy) still works, and `.aspx` suffixes of old firmware are accepted.

/// A `/iclock/*` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    CData,
    FData,
    GetRequest,
    DeviceCmd,
    Ping,
    Registry,
    Push,
    QueryData,
    RtData,
    /// Any other path containing `/iclock/`: logged and answered `OK`.
    Other,
}

impl Endpoint {
    /// The endpoint for a request path, or `None` when the path is not a device path at all.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let lower = path.to_ascii_lowercase();
        let idx = lower.rfind("/iclock/")?;
        let rest = lower[idx + "/iclock/".len()..].trim_end_matches('/');
        let name = rest.strip_suffix(".aspx").unwrap_or(rest);
        Some(match name {
            "cdata" => Endpoint::CData,
            "fdata" => Endpoint::FData,
            "getrequest" => Endpoint::GetRequest,
            "devicecmd" => Endpoint::DeviceCmd,
            "ping" => Endpoint::Ping,
            "registry" => Endpoint::Registry,
            "push" => Endpoint::Push,
            "querydata" => Endpoint::QueryData,
            "rtdata" => Endpoint::RtData,
            _ => Endpoint::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_by_suffix_with_prefixes_and_aspx() {
        assert_eq!(Endpoint::from_path("/iclock/cdata"), Some(Endpoint::CData));
        assert_eq!(Endpoint::from_path("/school-a/iclock/getrequest"), Some(Endpoint::GetRequest));
        assert_eq!(Endpoint::from_path("/iclock/cdata.aspx"), Some(Endpoint::CData));
        assert_eq!(Endpoint::from_path("/ICLOCK/DeviceCmd"), Some(Endpoint::DeviceCmd));
        assert_eq!(Endpoint::from_path("/iclock/file/fw/main.tgz"), Some(Endpoint::Other));
        assert_eq!(Endpoint::from_path("/api/v1/devices"), None);
    }
}
