//! A headless Chromium driven over WebDriver (chromedriver from Debian's `chromium-driver`).
//!
//! Without chromedriver the browser tests print a notice and pass vacuously on a developer
//! machine, but FAIL under CI (`CI` set): CI installs Chromium, so a missing driver there is a bug.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};

pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find(name: &str) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).map(|p| p.display().to_string())
}

/// Starts chromedriver and a headless Chromium; `None` (with a notice) when they are not installed.
pub async fn launch() -> Option<Browser> {
    let Some(driver_bin) = find("chromedriver") else {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium and chromium-driver (see .ci/run)");
        eprintln!("NOTICE: chromedriver not found; browser tests skipped (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let mut caps = Capabilities::new();
    let mut options = serde_json::json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB"]
    });
    if let Some(chromium) = find("chromium") {
        options["binary"] = serde_json::Value::String(chromium);
    }
    caps.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        let builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        match builder {
            Ok(client) => return Some(Browser { client, driver }),
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

impl Browser {
    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no element {selector}: {e}"))
    }

    /// The element's text. A page that re-renders between the find and the read leaves a stale
    /// element: it is then found again (a few times) rather than the test failing.
    pub async fn text(&self, selector: &str) -> String {
        self.read(selector, |e| async move { e.text().await }).await
    }

    /// An attribute of the element (`None` when it has none), found again if it went stale.
    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.read(selector, |e| async move { e.attr(name).await }).await
    }

    async fn read<T, F, Fut>(&self, selector: &str, get: F) -> T
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        use fantoccini::error::{CmdError, ErrorStatus};
        let mut last = None;
        for _ in 0..5 {
            match get(self.css(selector).await).await {
                Ok(value) => return value,
                Err(CmdError::Standard(e)) if e.error == ErrorStatus::StaleElementReference => {
                    last = Some(e.to_string());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("reading {selector}: {e}"),
            }
        }
        panic!("{selector} kept going stale: {last:?}");
    }

    /// Fills a field (clears it first).
    pub async fn fill(&self, selector: &str, value: &str) {
        let field = self.css(selector).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    /// Waits until `check` holds for the page (polling every 200 ms, at most `secs`).
    pub async fn until<F, Fut>(&self, secs: u64, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..secs * 5 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// Saves a PNG of the page as `<dir>/<name>.png` when `IRONCLOCK_SCREENSHOTS` names a
    /// directory (`docs/screenshots` to refresh the README's pictures).
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("IRONCLOCK_SCREENSHOTS") else { return };
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }
}
