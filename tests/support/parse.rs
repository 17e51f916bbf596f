//! Reading a JSON line strictly: one object, no duplicate keys.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// Parses one line as a JSON object, failing on a duplicate key (which `serde_json::Value` would
/// silently collapse).
pub fn parse_line(line: &str) -> Value {
    let pairs: Pairs = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("line is not one JSON object ({e}): {line}"));
    let mut map = serde_json::Map::new();
    for (key, value) in pairs.0 {
        assert!(
            map.insert(key.clone(), value).is_none(),
            "duplicate key {key:?} in line: {line}"
        );
    }
    Value::Object(map)
}

struct Pairs(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}
