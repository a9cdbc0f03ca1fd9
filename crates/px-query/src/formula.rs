//! Formulas across trend series: `A / B * 100`, `(A + B) / 2`, `-A`.
//! Letters name series in order (A is the first). Division by zero gives
//! 0, as in PostHog, so a chart never breaks on an empty bucket.

#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    Series(usize),
    Number(f64),
    Neg(Box<Formula>),
    Binary(Box<Formula>, char, Box<Formula>),
}

/// Longest formula accepted.
const MAX_LEN: usize = 500;

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    series: usize,
    depth: usize,
}

impl Formula {
    /// Parses `text` over `series` series.
    pub fn parse(text: &str, series: usize) -> Result<Formula, String> {
        if text.len() > MAX_LEN {
            return Err(format!("longer than {MAX_LEN} characters"));
        }
        let mut p = Parser { chars: text.char_indices().peekable(), series, depth: 0 };
        let f = p.expr()?;
        p.skip_space();
        match p.chars.next() {
            None => Ok(f),
            Some((i, c)) => Err(format!("unexpected {c:?} at {i}")),
        }
    }

    pub fn eval(&self, values: &[f64]) -> f64 {
        match self {
            Formula::Series(i) => values.get(*i).copied().unwrap_or(0.0),
            Formula::Number(n) => *n,
            Formula::Neg(f) => -f.eval(values),
            Formula::Binary(a, op, b) => {
                let (a, b) = (a.eval(values), b.eval(values));
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    _ if b == 0.0 => 0.0,
                    _ => a / b,
                }
            }
        }
    }
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            self.chars.next();
        }
    }

    fn expr(&mut self) -> Result<Formula, String> {
        let mut left = self.term()?;
        loop {
            self.skip_space();
            match self.chars.peek() {
                Some(&(_, op @ ('+' | '-'))) => {
                    self.chars.next();
                    left = Formula::Binary(Box::new(left), op, Box::new(self.term()?));
                }
                _ => return Ok(left),
            }
        }
    }

    fn term(&mut self) -> Result<Formula, String> {
        let mut left = self.factor()?;
        loop {
            self.skip_space();
            match self.chars.peek() {
                Some(&(_, op @ ('*' | '/'))) => {
                    self.chars.next();
                    left = Formula::Binary(Box::new(left), op, Box::new(self.factor()?));
                }
                _ => return Ok(left),
            }
        }
    }

    fn factor(&mut self) -> Result<Formula, String> {
        self.skip_space();
        self.depth += 1;
        if self.depth > 50 {
            return Err("nested too deeply".into());
        }
        let out = match self.chars.next() {
            Some((_, '-')) => Ok(Formula::Neg(Box::new(self.factor()?))),
            Some((_, '(')) => {
                let inner = self.expr()?;
                self.skip_space();
                match self.chars.next() {
                    Some((_, ')')) => Ok(inner),
                    _ => Err("missing )".into()),
                }
            }
            Some((i, c)) if c.is_ascii_uppercase() => {
                let idx = (c as u8 - b'A') as usize;
                if idx >= self.series {
                    Err(format!("{c} at {i} names no series (there are {})", self.series))
                } else {
                    Ok(Formula::Series(idx))
                }
            }
            Some((_, c)) if c.is_ascii_digit() || c == '.' => {
                let mut s = String::from(c);
                while let Some(&(_, d)) = self.chars.peek() {
                    if d.is_ascii_digit() || d == '.' {
                        s.push(d);
                        self.chars.next();
                    } else {
                        break;
                    }
                }
                s.parse().map(Formula::Number).map_err(|_| format!("{s:?} is not a number"))
            }
            Some((i, c)) => Err(format!("unexpected {c:?} at {i}")),
            None => Err("ends too early".into()),
        };
        self.depth -= 1;
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn precedence_parentheses_and_division_by_zero() {
        let f = Formula::parse("A / B * 100", 2).unwrap();
        assert_eq!(f.eval(&[1.0, 4.0]), 25.0);
        assert_eq!(f.eval(&[1.0, 0.0]), 0.0);
        assert_eq!(Formula::parse("(A + B) / 2 - -1", 2).unwrap().eval(&[3.0, 5.0]), 5.0);
        assert_eq!(Formula::parse("A + B * 2", 2).unwrap().eval(&[1.0, 2.0]), 5.0);
    }

    #[test]
    fn bad_formulas_say_why() {
        assert!(Formula::parse("A + C", 2).unwrap_err().contains("names no series"));
        assert!(Formula::parse("A +", 1).is_err());
        assert!(Formula::parse("(A", 1).is_err());
        assert!(Formula::parse("A; DROP TABLE events", 1).is_err());
        assert!(Formula::parse(&"(".repeat(100), 1).is_err());
    }
}
