//! Exactly-once checks for the drills: the punches a store holds, keyed by (serial, PIN,
//! device-local time), and the keys simulated devices generated.

use std::collections::HashSet;

use ironclock::sim::push::PunchGenerator;
use ironclock::store::{DynStore, PunchFilter};

/// `(serial number, PIN, device-local time)`: what makes a punch unique.
pub type PunchKey = (String, String, String);

/// Every stored punch's key; fails (naming `label`) when a key is stored twice.
pub async fn stored_once(store: &DynStore, label: &str) -> HashSet<PunchKey> {
    let stored = store.list_punches(&PunchFilter { limit: Some(100_000), ..Default::default() }).await.unwrap();
    let devices = store.list_devices().await.unwrap();
    let serial_of = |id: i64| devices.iter().find(|d| d.id.0 == id).unwrap().serial_number.clone();
    let keys: Vec<PunchKey> =
        stored.iter().map(|p| (serial_of(p.device_id), p.pin.to_string(), p.local_time.clone())).collect();
    let unique: HashSet<PunchKey> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "{label}: a punch was stored twice");
    unique
}

/// The keys `devices` simulated devices `{prefix}00000…` generated, `per_device` each (run 0).
pub fn generated(prefix: &str, devices: usize, per_device: u64) -> HashSet<PunchKey> {
    let mut expected = HashSet::new();
    for d in 0..devices {
        let mut generator = PunchGenerator::new(0);
        for _ in 0..per_device {
            let line = generator.next_line();
            let mut f = line.split('\t');
            expected.insert((format!("{prefix}{d:05}"), f.next().unwrap().to_string(), f.next().unwrap().to_string()));
        }
    }
    expected
}
