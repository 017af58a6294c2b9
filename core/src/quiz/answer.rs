//! The quiz answer parser: optional spaces, an optional `+` or `-`, decimal digits,
//! optional spaces (§2). Anything else — empty, letters, tabs, overflow — is wrong.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::one_of;
use nom::combinator::{all_consuming, opt};

/// Why an answer line is not a number. Every variant counts as a wrong answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AnswerError {
    /// Not of the answer's shape.
    Malformed,
    /// Digits that do not fit an i64.
    Overflow,
}

fn spaces(input: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|c| c == b' ')(input)
}

fn shape(input: &[u8]) -> IResult<&[u8], (Option<char>, &[u8])> {
    let (rest, (_, sign, digits, _)) = all_consuming((
        spaces,
        opt(one_of("+-")),
        take_while1(|c: u8| c.is_ascii_digit()),
        spaces,
    ))
    .parse(input)?;
    Ok((rest, (sign, digits)))
}

/// Parse an answer line (without its LF). Borrows nothing past the call and allocates
/// nothing; digits are accumulated with checked arithmetic, negatively, so that
/// `-9223372036854775808` is accepted and one more is an overflow.
pub fn parse_answer(line: &[u8]) -> Result<i64, AnswerError> {
    let (_, (sign, digits)) = shape(line).map_err(|_| AnswerError::Malformed)?;
    let mut neg: i64 = 0;
    for &d in digits {
        neg = neg
            .checked_mul(10)
            .and_then(|v| v.checked_sub(i64::from(d - b'0')))
            .ok_or(AnswerError::Overflow)?;
    }
    if sign == Some('-') {
        Ok(neg)
    } else {
        neg.checked_neg().ok_or(AnswerError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_answer_shape() {
        for (line, v) in [
            (&b"68"[..], 68),
            (b"  -12  ", -12),
            (b"+7", 7),
            (b"007", 7),
            (b"-0", 0),
            (b"9223372036854775807", i64::MAX),
            (b"-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(parse_answer(line), Ok(v), "{line:?}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for line in [
            &b""[..],
            b"   ",
            b"12a",
            b"- 12",
            b"+-1",
            b"1 2",
            b"\t12",
            b"12.0",
            b"\xff",
        ] {
            assert_eq!(parse_answer(line), Err(AnswerError::Malformed), "{line:?}");
        }
        assert_eq!(
            parse_answer(b"9223372036854775808"),
            Err(AnswerError::Overflow)
        );
    }
}
