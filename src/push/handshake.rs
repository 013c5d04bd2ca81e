//! The att-dialect handshake reply to `GET /iclock/cdata?SN=…&options=all`: a
//! `GET OPTION FROM: <SN>` line then LF-separated `key=value` options (push.md 2.4), and a
//! reader for such blocks (simulated devices, captured server replies).

/// `TransFlag` Format II with every table the server ingests (push.md 2.4 recommended block).
pub const TRANS_FLAG_FORMAT_II: &str =
    "TransData AttLog\tOpLog\tAttPhoto\tEnrollFP\tEnrollUser\tFPImag\tChgUser\tChgFP\tFACE\tUserPic\tFVEIN\tBioPhoto";
/// `TransFlag` digits for firmware that reads it with `strspn` (LX35 PushLite, capture 12).
pub const TRANS_FLAG_DIGITS: &str = "1111111111";
/// `ServerVer` of the recommended block: the exact value a SpeedFace-V5L accepted (capture 13).
pub const SERVER_VER: &str = "2.4.1 2024-01-01";
/// `PushProtVer` we implement (att 2.4.1, encryption off).
pub const PUSH_PROT_VER: &str = "2.4.1";
/// Keys the device should push in `table=options` (push.md 2.4; the list thai_zkt sends, capture 16).
pub const PUSH_OPTIONS: &str = "UserCount,TransactionCount,FingerFunOn,FPVersion,FPCount,FaceFunOn,FaceVersion,FaceCount,FvFunOn,FvVersion,FvCount,PvFunOn,PvVersion,PvCount,BioPhotoFun,BioDataFun,PhotoFunOn,~LockFunOn,CardProtFormat,~Platform,MultiBioPhotoSupport,MultiBioDataSupport,MultiBioVersion";
/// Unified template types the server accepts: fingerprint, NIR face, finger vein, palm vein, VL face.
pub const MULTI_BIO_DATA_SUPPORT: &str = "0:1:1:0:0:0:0:1:1:1";
/// Bio photo types the server accepts: visible-light face.
pub const MULTI_BIO_PHOTO_SUPPORT: &str = "0:0:0:0:0:0:0:0:0:1";

/// Per-table stamps to echo back; `None` renders `9999` (ZKTeco's server; "do not re-upload").
/// `Some("0")` forces a re-upload of that table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableStamps {
    /// `ATTLOGStamp`.
    pub attlog: Option<String>,
    /// `OPERLOGStamp`.
    pub operlog: Option<String>,
    /// `ATTPHOTOStamp`.
    pub attphoto: Option<String>,
    /// `BIODATAStamp` (recommended block only).
    pub biodata: Option<String>,
    /// `ERRORLOGStamp` (recommended block, written only when known: ERRORLOG keeps its own
    /// stamp and never moves `OPERLOGStamp`).
    pub errorlog: Option<String>,
    /// `IDCARDStamp` (recommended block, written only when known).
    pub idcard: Option<String>,
}

/// How `TransFlag` is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransFlagStyle {
    /// [`TRANS_FLAG_FORMAT_II`]: the only format new servers need (ATT-EN §5).
    FormatII,
    /// Digits = "1111111111" for firmware that reads TransFlag with strspn (LX35)
    Digits,
    /// Any value as given, e.g. `1111000000` (capture 17) or the official server's shorter list (capture 01).
    Custom(String),
}

/// Which lines the block carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeStyle {
    /// push.md 2.4 recommended block: four stamps, `ServerVer`, `PushProtVer`, `PushOptionsFlag`,
    /// `PushOptions`, `MultiBio*Support`.
    Recommended,
    /// ZKTeco's own server block (capture 01) that two live devices accept byte-exact
    /// (capture 17): three stamps through `Encrypt`, nothing after.
    Legacy,
}

/// Everything the handshake block says to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    /// Device serial for `GET OPTION FROM: <SN>`.
    pub serial: String,
    /// Stamps to echo.
    pub stamps: TableStamps,
    /// `ErrorDelay`: seconds before reconnecting after a network failure.
    pub error_delay: u32,
    /// `Delay`: seconds between `getrequest` polls.
    pub delay: u32,
    /// `TransTimes`: `hh:mm;hh:mm`.
    pub trans_times: String,
    /// `TransInterval`: minutes between checks for new data.
    pub trans_interval: u32,
    /// `TransFlag`.
    pub trans_flag: TransFlagStyle,
    /// `TimeZone`, already in the right unit (see [`super::time::timezone_option`]).
    pub timezone: String,
    /// `Realtime`: upload each record at once.
    pub realtime: bool,
    /// `ServerVer` (recommended style).
    pub server_ver: String,
    /// `PushProtVer` (recommended style).
    pub push_prot_ver: String,
    /// `PushOptionsFlag`: ask the device to POST `table=options` (recommended style).
    pub push_options_flag: bool,
    /// `PushOptions`, written only when `push_options_flag` is set and the list is not empty.
    pub push_options: String,
    /// `MultiBioDataSupport`, written when `Some` (recommended style).
    pub multi_bio_data_support: Option<String>,
    /// `MultiBioPhotoSupport`, written when `Some` (recommended style).
    pub multi_bio_photo_support: Option<String>,
    /// `Encrypt`: `0` (recommended) or `None` (ZKTeco's server, captures 01 and 17).
    pub encrypt: String,
    /// `MaxPostSize`: the largest upload body the server takes (thai_zkt sends it, capture 16);
    /// written when `Some` (recommended style). Firmware that knows the key splits its uploads.
    pub max_post_size: Option<usize>,
    /// Which lines to write.
    pub style: HandshakeStyle,
    /// Extra `key=value` lines appended last (e.g. `SupportPing=1`, `ATTPHOTOBase64=1`).
    pub extra: Vec<(String, String)>,
}

impl HandshakeConfig {
    /// The recommended block of push.md 2.4 (stamps None -> "9999", Delay 5, ErrorDelay 30 ...)
    pub fn recommended(serial: &str, timezone: String) -> HandshakeConfig {
        HandshakeConfig {
            serial: serial.to_owned(),
            stamps: TableStamps::default(),
            error_delay: 30,
            delay: 5,
            trans_times: "00:00;14:05".to_owned(),
            trans_interval: 1,
            trans_flag: TransFlagStyle::FormatII,
            timezone,
            realtime: true,
            server_ver: SERVER_VER.to_owned(),
            push_prot_ver: PUSH_PROT_VER.to_owned(),
            push_options_flag: true,
            push_options: PUSH_OPTIONS.to_owned(),
            multi_bio_data_support: Some(MULTI_BIO_DATA_SUPPORT.to_owned()),
            multi_bio_photo_support: Some(MULTI_BIO_PHOTO_SUPPORT.to_owned()),
            encrypt: "0".to_owned(),
            max_post_size: None,
            style: HandshakeStyle::Recommended,
            extra: Vec::new(),
        }
    }

    /// The block two live devices depend on byte for byte (capture 17): stamps
    /// `9999`/`9999`/`None`, Delay 10, `TransFlag=1111000000`, `Encrypt=None`. A fallback
    /// for firmware that misbehaves on the recommended block.
    pub fn legacy(serial: &str, timezone: String) -> HandshakeConfig {
        HandshakeConfig {
            stamps: TableStamps { attphoto: Some("None".to_owned()), ..TableStamps::default() },
            delay: 10,
            trans_flag: TransFlagStyle::Custom("1111000000".to_owned()),
            encrypt: "None".to_owned(),
            style: HandshakeStyle::Legacy,
            push_options_flag: false,
            multi_bio_data_support: None,
            multi_bio_photo_support: None,
            ..HandshakeConfig::recommended(serial, timezone)
        }
    }
}

/// Renders the att handshake block: LF line ends, no trailing newline (capture 17 is
/// byte-exact without one); exact grammar of push.md 2.4. CR and LF inside any value are
/// removed so a hostile serial or stamp cannot inject option lines.
pub fn render_att_handshake(cfg: &HandshakeConfig) -> String {
    let stamp = |s: &Option<String>| s.clone().unwrap_or_else(|| "9999".to_owned());
    let trans_flag = match &cfg.trans_flag {
        TransFlagStyle::FormatII => TRANS_FLAG_FORMAT_II.to_owned(),
        TransFlagStyle::Digits => TRANS_FLAG_DIGITS.to_owned(),
        TransFlagStyle::Custom(flag) => flag.clone(),
    };
    let recommended = cfg.style == HandshakeStyle::Recommended;
    let mut lines: Vec<(&str, String)> = vec![
        ("ATTLOGStamp", stamp(&cfg.stamps.attlog)),
        ("OPERLOGStamp", stamp(&cfg.stamps.operlog)),
        ("ATTPHOTOStamp", stamp(&cfg.stamps.attphoto)),
    ];
    if recommended {
        lines.push(("BIODATAStamp", stamp(&cfg.stamps.biodata)));
        // Only devices that upload these tables have a stamp for them (ATT-EN §5 lists both keys).
        if let Some(errorlog) = &cfg.stamps.errorlog {
            lines.push(("ERRORLOGStamp", errorlog.clone()));
        }
        if let Some(idcard) = &cfg.stamps.idcard {
            lines.push(("IDCARDStamp", idcard.clone()));
        }
    }
    lines.extend([
        ("ErrorDelay", cfg.error_delay.to_string()),
        ("Delay", cfg.delay.to_string()),
        ("TransTimes", cfg.trans_times.clone()),
        ("TransInterval", cfg.trans_interval.to_string()),
        ("TransFlag", trans_flag),
        ("TimeZone", cfg.timezone.clone()),
        ("Realtime", if cfg.realtime { "1" } else { "0" }.to_owned()),
        ("Encrypt", cfg.encrypt.clone()),
    ]);
    if recommended {
        lines.push(("ServerVer", cfg.server_ver.clone()));
        lines.push(("PushProtVer", cfg.push_prot_ver.clone()));
        lines.push(("PushOptionsFlag", if cfg.push_options_flag { "1" } else { "0" }.to_owned()));
        if cfg.push_options_flag && !cfg.push_options.is_empty() {
            lines.push(("PushOptions", cfg.push_options.clone()));
        }
        if let Some(support) = &cfg.multi_bio_data_support {
            lines.push(("MultiBioDataSupport", support.clone()));
        }
        if let Some(support) = &cfg.multi_bio_photo_support {
            lines.push(("MultiBioPhotoSupport", support.clone()));
        }
        if let Some(max) = cfg.max_post_size {
            lines.push(("MaxPostSize", max.to_string()));
        }
    }
    let mut block = format!("GET OPTION FROM: {}", single_line(&cfg.serial));
    for (key, value) in
        lines.iter().map(|(k, v)| (*k, v.as_str())).chain(cfg.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        block.push('\n');
        block.push_str(&single_line(key));
        block.push('=');
        block.push_str(&single_line(value));
    }
    block
}

fn single_line(value: &str) -> String {
    value.replace(['\r', '\n'], "")
}

/// A handshake block as a device reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeBlock {
    /// The serial of a `GET OPTION FROM: <SN>` line, if present.
    pub serial: Option<String>,
    /// Every `key=value` line in order (values may hold TABs, e.g. `TransFlag`).
    pub options: Vec<(String, String)>,
}

impl HandshakeBlock {
    /// The first value of `key`, case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Reads a handshake block (LF or CRLF). Firmware scans for lines it knows, so this does too:
/// lines without `=` other than `GET OPTION FROM:` are ignored. Never fails.
pub fn parse_handshake_block(text: &str) -> HandshakeBlock {
    let mut block = HandshakeBlock::default();
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if let Some(serial) = line.strip_prefix("GET OPTION FROM:") {
            if block.serial.is_none() {
                block.serial = Some(serial.trim().to_owned());
            }
        } else if let Some((key, value)) = line.split_once('=') {
            block.options.push((key.trim().to_owned(), value.to_owned()));
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_block_has_the_exact_lines_of_push_md_2_4() {
        let block = render_att_handshake(&HandshakeConfig::recommended("CEZU202360241", "330".into()));
        let expected = [
            "GET OPTION FROM: CEZU202360241",
            "ATTLOGStamp=9999",
            "OPERLOGStamp=9999",
            "ATTPHOTOStamp=9999",
            "BIODATAStamp=9999",
            "ErrorDelay=30",
            "Delay=5",
            "TransTimes=00:00;14:05",
            "TransInterval=1",
            "TransFlag=TransData AttLog\tOpLog\tAttPhoto\tEnrollFP\tEnrollUser\tFPImag\tChgUser\tChgFP\tFACE\tUserPic\tFVEIN\tBioPhoto",
            "TimeZone=330",
            "Realtime=1",
            "Encrypt=0",
            "ServerVer=2.4.1 2024-01-01",
            "PushProtVer=2.4.1",
            "PushOptionsFlag=1",
            "PushOptions=UserCount,TransactionCount,FingerFunOn,FPVersion,FPCount,FaceFunOn,FaceVersion,FaceCount,FvFunOn,FvVersion,FvCount,PvFunOn,PvVersion,PvCount,BioPhotoFun,BioDataFun,PhotoFunOn,~LockFunOn,CardProtFormat,~Platform,MultiBioPhotoSupport,MultiBioDataSupport,MultiBioVersion",
            "MultiBioDataSupport=0:1:1:0:0:0:0:1:1:1",
            "MultiBioPhotoSupport=0:0:0:0:0:0:0:0:0:1",
        ]
        .join("\n");
        assert_eq!(block, expected);
    }

    #[test]
    fn stored_stamps_are_echoed_and_zero_forces_a_reupload() {
        let mut cfg = HandshakeConfig::recommended("X", "0".into());
        cfg.stamps = TableStamps { attlog: Some("0".into()), operlog: Some("123".into()), ..TableStamps::default() };
        let block = render_att_handshake(&cfg);
        assert!(block.contains("\nATTLOGStamp=0\nOPERLOGStamp=123\nATTPHOTOStamp=9999\nBIODATAStamp=9999\nErrorDelay"));
    }

    #[test]
    fn errorlog_and_idcard_stamps_have_lines_of_their_own_when_known() {
        let mut cfg = HandshakeConfig::recommended("X", "0".into());
        cfg.stamps = TableStamps {
            operlog: Some("5".into()),
            errorlog: Some("6".into()),
            idcard: Some("7".into()),
            ..TableStamps::default()
        };
        let block = parse_handshake_block(&render_att_handshake(&cfg));
        assert_eq!(block.get("OPERLOGStamp"), Some("5"));
        assert_eq!(block.get("ERRORLOGStamp"), Some("6"));
        assert_eq!(block.get("IDCARDStamp"), Some("7"));
        let legacy =
            render_att_handshake(&HandshakeConfig { stamps: cfg.stamps, ..HandshakeConfig::legacy("X", "0".into()) });
        assert!(!legacy.contains("ERRORLOGStamp"), "the byte-exact legacy block stays as captured");
    }

    #[test]
    fn digits_style_sends_one_digit_trans_flag_and_no_text_flag() {
        let mut cfg = HandshakeConfig::recommended("X", "7".into());
        cfg.trans_flag = TransFlagStyle::Digits;
        let block = parse_handshake_block(&render_att_handshake(&cfg));
        let flags: Vec<&str> =
            block.options.iter().filter(|(k, _)| k == "TransFlag").map(|(_, v)| v.as_str()).collect();
        assert_eq!(flags, ["1111111111"]);
    }

    #[test]
    fn push_options_line_is_left_out_when_the_flag_is_off() {
        let mut cfg = HandshakeConfig::recommended("X", "0".into());
        cfg.push_options_flag = false;
        let block = render_att_handshake(&cfg);
        assert!(block.contains("\nPushOptionsFlag=0\n"));
        assert!(!block.contains("PushOptions="));
    }

    #[test]
    fn legacy_block_stops_after_encrypt_with_no_trailing_newline() {
        let block = render_att_handshake(&HandshakeConfig::legacy("ESY4241100079", "0".into()));
        assert!(block.ends_with("\nRealtime=1\nEncrypt=None"));
        assert!(!block.contains("BIODATAStamp") && !block.contains("ServerVer"));
    }

    #[test]
    fn line_breaks_in_values_cannot_inject_option_lines() {
        let mut cfg = HandshakeConfig::recommended("X\nDelay=0", "8".into());
        cfg.stamps.attlog = Some("1\r\nErrorDelay=1".into());
        let block = parse_handshake_block(&render_att_handshake(&cfg));
        assert_eq!(block.serial.as_deref(), Some("XDelay=0"));
        assert_eq!(block.get("Delay"), Some("5"));
        assert_eq!(block.get("ErrorDelay"), Some("30"));
        assert_eq!(block.get("ATTLOGStamp"), Some("1ErrorDelay=1"));
    }

    #[test]
    fn extra_lines_come_last() {
        let mut cfg = HandshakeConfig::legacy("X", "0".into());
        cfg.extra.push(("SupportPing".into(), "1".into()));
        assert!(render_att_handshake(&cfg).ends_with("Encrypt=None\nSupportPing=1"));
    }

    #[test]
    fn rendered_block_parses_back_to_its_options() {
        let block = parse_handshake_block(&render_att_handshake(&HandshakeConfig::recommended("SN1", "-210".into())));
        assert_eq!(block.serial.as_deref(), Some("SN1"));
        assert_eq!(block.get("TimeZone"), Some("-210"));
        assert_eq!(block.get("transflag"), Some(TRANS_FLAG_FORMAT_II));
        assert_eq!(block.options.len(), 18);
    }

    #[test]
    fn parse_handshake_block_accepts_crlf_and_ignores_noise() {
        let block = parse_handshake_block("GET OPTION FROM: A1\r\nStamp=0\r\n\r\njunk\r\nDelay=10");
        assert_eq!(block.serial.as_deref(), Some("A1"));
        assert_eq!(block.options, vec![("Stamp".to_owned(), "0".to_owned()), ("Delay".to_owned(), "10".to_owned())]);
    }
}
