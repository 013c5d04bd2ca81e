//! Server-to-device commands (`C:<id>:<command>` lines of a `getrequest` reply). Filled by a later issue.
