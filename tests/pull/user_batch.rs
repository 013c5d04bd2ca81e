//! Users written in one batch upload (cmd 110 type 12), as the area sync writes them: placement
//! as for single writes (a person keeps their uid, a new one gets a free uid), the record size
//! the device uses (an empty device's is learnt from a first single write), nobody clobbered.

use std::net::SocketAddr;
use std::time::Duration;

use ironclock::pull::client::UserSpec;
use ironclock::pull::wire::user::UserRecordSize;
use ironclock::pull::{Client, ConnectOptions, TransportMode};
use ironclock::sim::pull::{Seed, SimConfig, SimDevice};

fn spec(user_id: &str, name: &str) -> UserSpec {
    UserSpec { user_id: user_id.into(), name: name.into(), privilege: 0, password: String::new(), card: 7, group: 1 }
}

async fn connect(sim: &SimDevice) -> Client {
    let mut o = ConnectOptions::new(sim.addr());
    o.transport = TransportMode::Tcp;
    o.timeout = Duration::from_secs(2);
    Client::connect(o).await.unwrap()
}

async fn sim(config: SimConfig, users: u32) -> SimDevice {
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let seed =
        Seed { user_ids: (101..101 + users).collect(), fingers_per_user: 1, faces: false, photos: false, records: 0 };
    SimDevice::start(listen, config, &seed).await.unwrap()
}

#[tokio::test]
async fn a_batch_keeps_known_uids_gives_new_people_free_ones_and_clobbers_nobody() {
    let sim = sim(SimConfig::default(), 5).await;
    let mut c = connect(&sim).await;
    let specs = [spec("103", "Renamed"), spec("9001", "Zoe"), spec("9002", "Yan")];
    let out = c.upsert_users_batched(&specs).await.unwrap();
    let uids: Vec<u16> = out.iter().map(|r| r.as_ref().unwrap().uid).collect();
    assert_eq!(uids, [3, 6, 7]);
    let users = sim.users();
    assert_eq!(users.len(), 7, "{users:?}");
    let by_id = |id: &str| users.iter().find(|u| u.user_id == id).cloned().unwrap();
    assert_eq!((by_id("103").uid, by_id("103").name.as_str()), (3, "Renamed"));
    assert_eq!((by_id("9001").uid, by_id("9001").card), (6, 7));
    assert_eq!(by_id("9002").uid, 7);
    assert_eq!(by_id("101").name, users.iter().find(|u| u.uid == 1).unwrap().name, "uid 1 untouched");
    c.close().await.unwrap();
}

#[tokio::test]
async fn an_empty_old_device_learns_its_short_records_from_the_first_write() {
    let config = SimConfig { user_record: UserRecordSize::Short28, ..SimConfig::default() };
    let sim = sim(config, 0).await;
    let mut c = connect(&sim).await;
    let specs: Vec<UserSpec> = (1..=40).map(|n| spec(&(500 + n).to_string(), &format!("P{n}"))).collect();
    let out = c.upsert_users_batched(&specs).await.unwrap();
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    let mut ids: Vec<String> = sim.users().into_iter().map(|u| u.user_id).collect();
    ids.sort();
    let mut want: Vec<String> = specs.iter().map(|s| s.user_id.clone()).collect();
    want.sort();
    assert_eq!(ids, want, "every person is on the 28-byte device, read back by the client too");
    assert_eq!(c.read_users().await.unwrap().len(), 40);
    c.close().await.unwrap();
}
