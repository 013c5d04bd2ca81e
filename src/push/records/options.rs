//! `table=options` bodies (and the acc registry body, the INFO-style `GET OPTIONS` answers):
//! `key=value` pairs separated by commas or line feeds (push.md 2.6 "options").

/// `table=options` body: comma-separated key=value, commas inside values re-attached
/// (`~OEMVendor=ZKTECO CO., LTD.`), trailing comma ok. Also accepts LF-separated key=value.
///
/// A token without `=` belongs to the previous value (capture 05/06: `~OEMVendor=ZKTECO CO., LTD.`).
/// Keys and values are trimmed; empty tokens, tokens before the first pair and pairs with
/// an empty key are dropped. Values are split from keys at the first `=`.
pub fn parse_options(body: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in body.split('\n') {
        let mut continues_value = false;
        for token in line.strip_suffix('\r').unwrap_or(line).split(',') {
            match token.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    pairs.push((key.trim().to_owned(), value.trim().to_owned()));
                    continues_value = true;
                }
                Some(_) => continues_value = false,
                None if token.trim().is_empty() => {}
                None => {
                    if let (true, Some((_, value))) = (continues_value, pairs.last_mut()) {
                        value.push(',');
                        value.push_str(token.trim_end());
                    }
                }
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn comma_inside_oem_vendor_is_reattached_to_the_value() {
        let parsed = parse_options("~Platform=ZAM180_TFT,~OEMVendor=ZKTECO CO., LTD.,FWVersion=ZAM180-NF50VA-Ver3.4.9");
        assert_eq!(
            parsed,
            pairs(&[
                ("~Platform", "ZAM180_TFT"),
                ("~OEMVendor", "ZKTECO CO., LTD."),
                ("FWVersion", "ZAM180-NF50VA-Ver3.4.9"),
            ])
        );
    }

    #[test]
    fn trailing_comma_and_empty_values_are_fine() {
        let parsed = parse_options("FingerFunOn=1,~MaxPvCount=,FaceFunOn=1,");
        assert_eq!(parsed, pairs(&[("FingerFunOn", "1"), ("~MaxPvCount", ""), ("FaceFunOn", "1")]));
    }

    #[test]
    fn line_feed_separated_pairs_are_accepted() {
        let parsed = parse_options("UserCount=4\r\n~OEMVendor= ZKTeco Inc.\nPushOptions=UserCount,FPCount\n");
        assert_eq!(
            parsed,
            pairs(&[("UserCount", "4"), ("~OEMVendor", "ZKTeco Inc."), ("PushOptions", "UserCount,FPCount")])
        );
    }

    #[test]
    fn values_keep_everything_after_the_first_equals() {
        assert_eq!(parse_options("filter=Type=1"), pairs(&[("filter", "Type=1")]));
    }

    #[test]
    fn stray_tokens_before_any_pair_or_after_an_empty_key_are_dropped() {
        assert_eq!(parse_options("junk,=x,tail,A=1"), pairs(&[("A", "1")]));
        assert!(parse_options("").is_empty());
    }
}
