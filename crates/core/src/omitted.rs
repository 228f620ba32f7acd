//! What an answer leaves out, and why: every layer and analysis answer
//! carries a top-level `"omitted"` object (`{"coarse_position": 1827}`)
//! beside the `"datetime"` interval it used, so an empty map says why it
//! is empty. The web pages turn each reason into words through the
//! message catalogue (`omitted.<reason>`).

use std::collections::BTreeMap;

/// Why a record is not in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Omission {
    /// Its position only stands in for a municipality or county (the
    /// police feed's midpoints): no hexagon, point or hot spot shows it.
    CoarsePosition,
    /// A line or polygon, which a point layer does not draw.
    NotAPoint,
    /// It lies in a hexagon outside the study area of a hot-spot analysis.
    OutsideStudyArea,
}

impl Omission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CoarsePosition => "coarse_position",
            Self::NotAPoint => "not_a_point",
            Self::OutsideStudyArea => "outside_study_area",
        }
    }
}

/// How many records an answer leaves out, per reason. A reason the answer
/// can leave out is always present, with 0 when nothing was left out, so
/// clients read one shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Omitted(BTreeMap<Omission, u64>);

impl Omitted {
    /// Nothing left out yet, for these reasons.
    pub fn of(reasons: &[Omission]) -> Self {
        Self(reasons.iter().map(|r| (*r, 0)).collect())
    }

    pub fn add(&mut self, reason: Omission, n: u64) {
        *self.0.entry(reason).or_default() += n;
    }

    pub fn get(&self, reason: Omission) -> u64 {
        self.0.get(&reason).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(r, n)| (r.as_str().to_owned(), serde_json::Value::from(*n)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_asked_for_is_said_even_when_nothing_was_left_out() {
        let mut o = Omitted::of(&[Omission::CoarsePosition, Omission::NotAPoint]);
        o.add(Omission::CoarsePosition, 1_827);
        assert_eq!(
            o.to_json(),
            serde_json::json!({ "coarse_position": 1827, "not_a_point": 0 })
        );
        assert_eq!(o.total(), 1_827);
        assert_eq!(o.get(Omission::OutsideStudyArea), 0);
    }
}
