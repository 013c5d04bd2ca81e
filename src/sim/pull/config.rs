//! What kind of device the simulator pretends to be (firmware family, identity, comm key),
//! how it paces its replies, and which faults it injects.

use std::time::Duration;

use crate::pull::wire::attendance::AttendanceFormat;
use crate::pull::wire::user::UserRecordSize;

/// Faults a test can switch on, also while the device runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Drop (never send) the reply to every Nth request of a session; 0 = never.
    pub drop_every: u32,
    /// Delay every reply by this long.
    pub slow_reply: Duration,
    /// Answer every CMD_AUTH with CMD_ACK_UNAUTH, whatever the key.
    pub reject_auth: bool,
    /// Refuse every CMD_CONNECT as a device that is busy with another client (CMD_ACK_ERROR).
    pub busy: bool,
    /// Once: end the session without a reply at its Nth request (a device that goes away in the
    /// middle of a read; TCP closes the connection). 0 = never; cleared after it fires.
    pub cut_at_request: u32,
}

/// Identity, firmware family and behaviour of a simulated device.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// `~SerialNumber`.
    pub serial: String,
    /// CMD_GET_VERSION answer.
    pub firmware_version: String,
    /// `~Platform`.
    pub platform: String,
    /// `~DeviceName`.
    pub device_name: String,
    /// Comm key; 0 = none (CONNECT answers ACK_OK instead of ACK_UNAUTH).
    pub comm_key: u32,
    /// User record layout of this firmware family.
    pub user_record: UserRecordSize,
    /// Attendance record layout.
    pub attendance_format: AttendanceFormat,
    /// `~ZKFPVersion` (9 or 10): decides generated template sizes.
    pub fp_version: u8,
    /// `ZKFaceVersion`; `None` = a device without faces (80-byte sizes, face commands refused).
    pub face_version: Option<u8>,
    /// Whether user photos (10009–10011) are supported.
    pub photos_supported: bool,
    /// CMD_GET_PINWIDTH answer.
    pub pin_width: u8,
    /// Largest CMD_DATA payload per frame on TCP (firmware seen: 1008, 65528, 65536).
    pub tcp_frame_max: usize,
    /// Pause between CMD_DATA datagrams on UDP (real firmware: 20 ms).
    pub udp_frame_pacing: Duration,
    /// Session id of the first CONNECT (the golden recordings use 0x1234); then +1 per session.
    pub first_session_id: Option<u16>,
    /// Concurrent sessions allowed; a CONNECT beyond answers busy. 0 = unlimited.
    pub max_sessions: usize,
    /// While a client listens for events, punch for the next user this often.
    pub punch_every: Option<Duration>,
    /// Whether CMD_QUERY_DATA / CMD_READ_DATA exist; without them (the oldest firmware) tables
    /// are read with the legacy commands 9, 7 and 13, each answered with one stream.
    pub buffered_reads: bool,
    /// Answer only on UDP, like the oldest firmware (MA300 "Ver 6.62"): TCP is refused.
    pub udp_only: bool,
    /// Injected faults.
    pub faults: Faults,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            serial: "IRONCLOCK-SIM-0001".into(),
            firmware_version: "Ver 6.60 Apr 28 2015".into(),
            platform: "ZMM220_TFT".into(),
            device_name: "ironclock-sim".into(),
            comm_key: 0,
            user_record: UserRecordSize::Long72,
            attendance_format: AttendanceFormat::Long40,
            fp_version: 10,
            face_version: Some(7),
            photos_supported: true,
            pin_width: 24,
            tcp_frame_max: 65_528,
            udp_frame_pacing: Duration::ZERO,
            first_session_id: None,
            max_sessions: 0,
            punch_every: None,
            udp_only: false,
            buffered_reads: true,
            faults: Faults::default(),
        }
    }
}
