//! Device information and control: firmware, options, counters, clock, enable/disable (with a
//! timeout, so a crashed caller never leaves a terminal disabled), refresh.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::{Client, Retry};
use crate::pull::error::{Error, Result};
use crate::pull::transport::TransportKind;
use crate::pull::wire::command::{
    DISABLEDEVICE, ENABLEDEVICE, GET_FREE_SIZES, GET_PINWIDTH, GET_TIME, GET_VERSION, OPTIONS_RRQ, OPTIONS_WRQ,
    REFRESHDATA, REFRESHOPTION, SET_TIME,
};
use crate::pull::wire::options::{decode_option_pair, encode_option_request};
use crate::pull::wire::reply::{classify, ReplyKind};
use crate::pull::wire::sizes::FreeSizes;
use crate::pull::wire::time::{decode_time, encode_time};

/// What an installer wants to see first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceInfo {
    /// Firmware version string.
    pub firmware: String,
    /// `~SerialNumber`.
    pub serial: Option<String>,
    /// `~Platform`.
    pub platform: Option<String>,
    /// `~DeviceName`.
    pub device_name: Option<String>,
    /// `~ZKFPVersion`.
    pub fp_version: Option<u8>,
    /// `ZKFaceVersion` (faces supported only with `FaceFunOn=1`).
    pub face_version: Option<u8>,
    /// `FaceFunOn`.
    pub face_enabled: bool,
    /// Width of user ids.
    pub pin_width: Option<u8>,
    /// Counters and capacities.
    pub sizes: FreeSizes,
    /// Device clock.
    pub time: Option<NaiveDateTime>,
    /// Transport in use.
    pub transport: TransportKind,
}

impl Client {
    /// CMD_GET_VERSION, e.g. `Ver 6.60 Apr 28 2015`.
    pub async fn firmware_version(&mut self) -> Result<String> {
        let r = self.call_ok(GET_VERSION, &[], Retry::NewId).await?;
        let end = r.data.iter().position(|&b| b == 0).unwrap_or(r.data.len());
        Ok(String::from_utf8_lossy(&r.data[..end]).into_owned())
    }

    /// One option; `None` when the device does not know it.
    pub async fn option(&mut self, key: &str) -> Result<Option<String>> {
        let r = self.call(OPTIONS_RRQ, &encode_option_request(key), Retry::NewId).await?;
        match classify(r.code) {
            ReplyKind::Ok => Ok(Some(decode_option_pair(&r.data).1)),
            ReplyKind::Unknown => Err(Error::Unsupported { command: OPTIONS_RRQ }),
            _ => Ok(None),
        }
    }

    /// Writes one option and makes the device reload its options.
    pub async fn set_option(&mut self, key: &str, value: &str) -> Result<()> {
        self.call_ok(OPTIONS_WRQ, format!("{key}={value}").as_bytes(), Retry::SameId).await?;
        self.call_ok(REFRESHOPTION, &[], Retry::SameId).await?;
        Ok(())
    }

    /// `~SerialNumber`.
    pub async fn serial_number(&mut self) -> Result<Option<String>> {
        self.option("~SerialNumber").await
    }

    /// `~Platform`.
    pub async fn platform(&mut self) -> Result<Option<String>> {
        self.option("~Platform").await
    }

    /// `~ZKFPVersion` (9 and 10 templates are incompatible).
    pub async fn fp_version(&mut self) -> Result<Option<u8>> {
        Ok(self.option("~ZKFPVersion").await?.and_then(|v| v.trim().parse().ok()))
    }

    /// `ZKFaceVersion` when faces are switched on (`FaceFunOn=1`), else `None`.
    pub async fn face_version(&mut self) -> Result<Option<u8>> {
        let on = self.option("FaceFunOn").await?.is_some_and(|v| v.trim() == "1");
        if !on {
            return Ok(None);
        }
        Ok(self.option("ZKFaceVersion").await?.and_then(|v| v.trim().parse().ok()))
    }

    /// CMD_GET_FREE_SIZES.
    pub async fn sizes(&mut self) -> Result<FreeSizes> {
        let r = self.call_ok(GET_FREE_SIZES, &[], Retry::NewId).await?;
        Ok(FreeSizes::decode(&r.data)?)
    }

    /// The device clock (local time, no zone).
    pub async fn time(&mut self) -> Result<NaiveDateTime> {
        let r = self.call_ok(GET_TIME, &[], Retry::NewId).await?;
        let raw = r.data.get(..4).ok_or_else(|| Error::Protocol("CMD_GET_TIME reply too short".into()))?;
        let value = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
        decode_time(value).ok_or_else(|| Error::Protocol(format!("device time {value:#x} is not a date")))
    }

    /// Sets the device clock.
    pub async fn set_time(&mut self, t: NaiveDateTime) -> Result<()> {
        let value = encode_time(t)?;
        self.call_ok(SET_TIME, &value.to_le_bytes(), Retry::SameId).await?;
        self.call_ok(REFRESHDATA, &[], Retry::SameId).await?;
        Ok(())
    }

    /// Disables the keypad and sensors ("Working…"); the device re-enables itself after
    /// `timeout` of inactivity. [`Client::close`] re-enables it too.
    pub async fn disable(&mut self, timeout: Duration) -> Result<()> {
        let secs = u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX).max(1);
        self.call_ok(DISABLEDEVICE, &secs.to_le_bytes(), Retry::SameId).await?;
        self.disabled = true;
        Ok(())
    }

    /// Enables the device again.
    pub async fn enable(&mut self) -> Result<()> {
        self.call_ok(ENABLEDEVICE, &[], Retry::SameId).await?;
        self.disabled = false;
        Ok(())
    }

    /// Makes the device reload its data after writes (one refresh per batch is enough).
    pub async fn refresh(&mut self) -> Result<()> {
        self.call_ok(REFRESHDATA, &[], Retry::SameId).await.map(|_| ())
    }

    /// Firmware, identity, capabilities, counters and clock in one go.
    pub async fn info(&mut self) -> Result<DeviceInfo> {
        let firmware = self.firmware_version().await?;
        let serial = self.serial_number().await?;
        let platform = self.platform().await?;
        let device_name = self.option("~DeviceName").await?;
        let fp_version = self.fp_version().await?;
        let face_enabled = self.option("FaceFunOn").await?.is_some_and(|v| v.trim() == "1");
        let face_version = self.option("ZKFaceVersion").await?.and_then(|v| v.trim().parse().ok());
        let pin_width = match self.call(GET_PINWIDTH, b" P", Retry::NewId).await? {
            r if classify(r.code) == ReplyKind::Ok => r.data.first().copied(),
            _ => None,
        };
        let sizes = self.sizes().await?;
        let time = self.time().await.ok();
        Ok(DeviceInfo {
            firmware,
            serial,
            platform,
            device_name,
            fp_version,
            face_version,
            face_enabled,
            pin_width,
            sizes,
            time,
            transport: self.transport_kind(),
        })
    }
}
