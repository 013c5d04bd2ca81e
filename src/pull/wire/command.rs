//! Command codes a client sends (spec §3). Only the ones this project uses or answers are named.

/// `CMD_USER_WRQ`: write one user record (28 or 72 bytes).
pub const USER_WRQ: u16 = 8;
/// `CMD_USERTEMP_RRQ`: legacy user/template read; data type 9 of CMD_QUERY_DATA (users).
pub const USERTEMP_RRQ: u16 = 9;
/// `CMD_DB_RRQ`: legacy bulk read; data type 7 of CMD_QUERY_DATA (templates).
pub const DB_RRQ: u16 = 7;
/// `CMD_OPTIONS_RRQ`: read one option `Key\0` → `Key=Value\0`.
pub const OPTIONS_RRQ: u16 = 11;
/// `CMD_OPTIONS_WRQ`: write one option `Key=Value`.
pub const OPTIONS_WRQ: u16 = 12;
/// `CMD_ATTLOG_RRQ`: legacy attendance read; data type 13 of CMD_QUERY_DATA.
pub const ATTLOG_RRQ: u16 = 13;
/// `CMD_CLEAR_DATA`: clear everything or one table.
pub const CLEAR_DATA: u16 = 14;
/// `CMD_CLEAR_ATTLOG`: clear the attendance log.
pub const CLEAR_ATTLOG: u16 = 15;
/// `CMD_DELETE_USER` `<H uid>`.
pub const DELETE_USER: u16 = 18;
/// `CMD_DELETE_USERTEMP` `<H uid><B fid>`.
pub const DELETE_USERTEMP: u16 = 19;
/// `CMD_UNLOCK` `<I tenths of a second>`.
pub const UNLOCK: u16 = 31;
/// `CMD_GET_FREE_SIZES`: counts and capacities (80 or 92 bytes).
pub const GET_FREE_SIZES: u16 = 50;
/// `CMD_FREEID_RRQ`: first free uid (in the session slot of the reply).
pub const FREEID_RRQ: u16 = 55;
/// `CMD_STARTVERIFY`.
pub const STARTVERIFY: u16 = 60;
/// `CMD_CANCELCAPTURE`.
pub const CANCELCAPTURE: u16 = 62;
/// `CMD_STATE_RRQ`: machine state in the reply's session slot.
pub const STATE_RRQ: u16 = 64;
/// `CMD_GET_PINWIDTH`: reply data[0] = width of user ids.
pub const GET_PINWIDTH: u16 = 69;
/// `CMD_DOORSTATE_RRQ`.
pub const DOORSTATE_RRQ: u16 = 75;
/// `CMD_USERTEMP_EX_WRQ` `<H uid><B fid><B flag><H len>`: store the upload buffer as a template.
pub const USERTEMP_EX_WRQ: u16 = 87;
/// `CMD_USERTEMP_EX_RRQ` `<H uid><B fid>`: one template (stream of template + 6×0 + flag).
pub const USERTEMP_EX_RRQ: u16 = 88;
/// `CMD_UPDATE_FIREWARE`: act on the upload buffer (type 12 = batch users + templates).
pub const UPDATE_FIREWARE: u16 = 110;
/// `CMD_HASH_DATA`: PJW hash of the upload buffer.
pub const HASH_DATA: u16 = 119;
/// `CMD_SSRDELETE_USER` `24s user_id`.
pub const SSR_DELETE_USER: u16 = 133;
/// `CMD_SSRDELETE_USERTEMP` `24s user_id, B fid` (fid 13 = all fingers).
pub const SSR_DELETE_USERTEMP: u16 = 134;
/// `CMD_USERFACE_RRQ`: read a user's face records.
pub const USERFACE_RRQ: u16 = 150;
/// `CMD_USERFACE_WRQ`: store the upload buffer as a user's face records.
pub const USERFACE_WRQ: u16 = 151;
/// `CMD_DELETE_USERFACE`.
pub const DELETE_USERFACE: u16 = 152;
/// `CMD_GET_TIME`.
pub const GET_TIME: u16 = 201;
/// `CMD_SET_TIME` `<I encoded time>`.
pub const SET_TIME: u16 = 202;
/// `CMD_REG_EVENT` `<I mask>`; also the command code of every pushed event.
pub const REG_EVENT: u16 = 500;
/// `CMD_CONNECT`.
pub const CONNECT: u16 = 1000;
/// `CMD_EXIT`.
pub const EXIT: u16 = 1001;
/// `CMD_ENABLEDEVICE`.
pub const ENABLEDEVICE: u16 = 1002;
/// `CMD_DISABLEDEVICE` `[<I timeout seconds>]`.
pub const DISABLEDEVICE: u16 = 1003;
/// `CMD_RESTART`.
pub const RESTART: u16 = 1004;
/// `CMD_REFRESHDATA`: reload the matcher caches after writes.
pub const REFRESHDATA: u16 = 1013;
/// `CMD_REFRESHOPTION`.
pub const REFRESHOPTION: u16 = 1014;
/// `CMD_TESTVOICE` `<I index>`.
pub const TESTVOICE: u16 = 1017;
/// `CMD_GET_VERSION`: firmware version string.
pub const GET_VERSION: u16 = 1100;
/// `CMD_AUTH`: comm-key proof (4 bytes).
pub const AUTH: u16 = 1102;
/// `CMD_PREPARE_DATA`: opens an upload buffer (client) or a stream (device).
pub const PREPARE_DATA: u16 = 1500;
/// `CMD_DATA`: part of an upload or of a stream.
pub const DATA: u16 = 1501;
/// `CMD_FREE_DATA`: free the session buffer.
pub const FREE_DATA: u16 = 1502;
/// `CMD_QUERY_DATA` (11 bytes): build a table in the session buffer.
pub const QUERY_DATA: u16 = 1503;
/// `CMD_READ_DATA` `<I offset><I size>`: read a chunk of the session buffer.
pub const READ_DATA: u16 = 1504;
/// Set a user photo from the upload buffer (`<user_id>.jpg` padded to 39 + 4×0).
pub const SET_USER_PHOTO: u16 = 10009;
/// Read a user photo (`<user_id>.jpg\0`).
pub const GET_USER_PHOTO: u16 = 10010;
/// Delete a user photo (`<user_id>.jpg\0`).
pub const DELETE_USER_PHOTO: u16 = 10011;

/// FCT table id of attendance (CMD_CLEAR_DATA, CMD_QUERY_DATA parameter).
pub const FCT_ATTLOG: u8 = 1;
/// FCT table id of fingerprint templates.
pub const FCT_FINGERTMP: u8 = 2;
/// FCT table id of users.
pub const FCT_USER: u8 = 5;
/// Upload-buffer action of cmd 110: batch users + templates.
pub const UPDATE_BATCH_USERDATA: u32 = 12;
/// Event flag: attendance punch.
pub const EF_ATTLOG: u16 = 1;
/// Event flag: finger placed.
pub const EF_FINGER: u16 = 2;
/// Event flag: user enrolled.
pub const EF_ENROLLUSER: u16 = 4;
/// Event flag: finger enrolled.
pub const EF_ENROLLFINGER: u16 = 8;
/// Event flag: verification result.
pub const EF_VERIFY: u16 = 128;
/// Event flag: fingerprint quality score.
pub const EF_FPFTR: u16 = 256;
