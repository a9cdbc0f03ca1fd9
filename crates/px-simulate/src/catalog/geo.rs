//! Countries (ISO 3166-1 alpha-2) with their share of visitors, browser
//! locales, and cities with IANA time zones. The time zone's UTC offset
//! places a visitor's afternoon peak at the right UTC hour, so the hourly
//! curve of a world-wide audience is the blend of local curves it is in
//! reality. Offsets ignore daylight saving time: an hour off for half the
//! year does not change any chart's shape.

/// A city with its IANA zone and standard UTC offset in minutes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct City {
    pub name: &'static str,
    pub timezone: &'static str,
    pub utc_offset_min: i32,
    pub share: f64,
}

/// A country, its share of visitors, its browser locales and cities.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Country {
    pub code: &'static str,
    pub share: f64,
    pub locales: &'static [(&'static str, f64)],
    pub cities: &'static [City],
    /// Multiplier on network-bound web vitals (TTFB, FCP, LCP): slower
    /// median connections in some markets.
    pub network: f64,
}

const fn city(name: &'static str, timezone: &'static str, utc_offset_min: i32, share: f64) -> City {
    City { name, timezone, utc_offset_min, share }
}

/// Locale some visitors run their browser in whatever their country.
pub(crate) const FALLBACK_LOCALE: &str = "en-US";
/// Share of visitors whose browser is in [`FALLBACK_LOCALE`] regardless of
/// their country (developers often are).
pub(crate) const FALLBACK_LOCALE_SHARE: f64 = 0.08;
/// Share of visitors whose city is resolved; the others carry only a country.
pub(crate) const CITY_SHARE: f64 = 0.75;

/// Shares are percentages of visitors.
pub(crate) const COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        share: 34.0,
        locales: &[("en-US", 95.0), ("es-US", 5.0)],
        cities: &[
            city("New York", "America/New_York", -300, 22.0),
            city("San Francisco", "America/Los_Angeles", -480, 16.0),
            city("Los Angeles", "America/Los_Angeles", -480, 10.0),
            city("Seattle", "America/Los_Angeles", -480, 8.0),
            city("Austin", "America/Chicago", -360, 10.0),
            city("Chicago", "America/Chicago", -360, 12.0),
            city("Boston", "America/New_York", -300, 10.0),
            city("Denver", "America/Denver", -420, 6.0),
            city("Atlanta", "America/New_York", -300, 6.0),
        ],
        network: 1.0,
    },
    Country {
        code: "BR",
        share: 12.0,
        locales: &[("pt-BR", 100.0)],
        cities: &[
            city("São Paulo", "America/Sao_Paulo", -180, 40.0),
            city("Rio de Janeiro", "America/Sao_Paulo", -180, 20.0),
            city("Belo Horizonte", "America/Sao_Paulo", -180, 12.0),
            city("Curitiba", "America/Sao_Paulo", -180, 10.0),
            city("Porto Alegre", "America/Sao_Paulo", -180, 9.0),
            city("Recife", "America/Recife", -180, 9.0),
        ],
        network: 1.3,
    },
    Country {
        code: "IN",
        share: 9.0,
        locales: &[("en-IN", 85.0), ("hi-IN", 15.0)],
        cities: &[
            city("Bengaluru", "Asia/Kolkata", 330, 35.0),
            city("Mumbai", "Asia/Kolkata", 330, 20.0),
            city("Delhi", "Asia/Kolkata", 330, 20.0),
            city("Hyderabad", "Asia/Kolkata", 330, 15.0),
            city("Pune", "Asia/Kolkata", 330, 10.0),
        ],
        network: 1.5,
    },
    Country {
        code: "GB",
        share: 8.0,
        locales: &[("en-GB", 100.0)],
        cities: &[
            city("London", "Europe/London", 0, 60.0),
            city("Manchester", "Europe/London", 0, 15.0),
            city("Edinburgh", "Europe/London", 0, 12.0),
            city("Bristol", "Europe/London", 0, 13.0),
        ],
        network: 1.0,
    },
    Country {
        code: "DE",
        share: 7.0,
        locales: &[("de-DE", 100.0)],
        cities: &[
            city("Berlin", "Europe/Berlin", 60, 35.0),
            city("Munich", "Europe/Berlin", 60, 25.0),
            city("Hamburg", "Europe/Berlin", 60, 20.0),
            city("Frankfurt", "Europe/Berlin", 60, 20.0),
        ],
        network: 1.0,
    },
    Country {
        code: "FR",
        share: 5.0,
        locales: &[("fr-FR", 100.0)],
        cities: &[
            city("Paris", "Europe/Paris", 60, 65.0),
            city("Lyon", "Europe/Paris", 60, 20.0),
            city("Toulouse", "Europe/Paris", 60, 15.0),
        ],
        network: 1.0,
    },
    Country {
        code: "CA",
        share: 5.0,
        locales: &[("en-CA", 78.0), ("fr-CA", 22.0)],
        cities: &[
            city("Toronto", "America/Toronto", -300, 50.0),
            city("Vancouver", "America/Vancouver", -480, 25.0),
            city("Montreal", "America/Toronto", -300, 25.0),
        ],
        network: 1.0,
    },
    Country {
        code: "ES",
        share: 3.0,
        locales: &[("es-ES", 100.0)],
        cities: &[
            city("Madrid", "Europe/Madrid", 60, 50.0),
            city("Barcelona", "Europe/Madrid", 60, 35.0),
            city("Valencia", "Europe/Madrid", 60, 15.0),
        ],
        network: 1.0,
    },
    Country {
        code: "MX",
        share: 3.0,
        locales: &[("es-MX", 100.0)],
        cities: &[
            city("Mexico City", "America/Mexico_City", -360, 60.0),
            city("Guadalajara", "America/Mexico_City", -360, 20.0),
            city("Monterrey", "America/Monterrey", -360, 20.0),
        ],
        network: 1.25,
    },
    Country {
        code: "AU",
        share: 3.0,
        locales: &[("en-AU", 100.0)],
        cities: &[
            city("Sydney", "Australia/Sydney", 600, 50.0),
            city("Melbourne", "Australia/Melbourne", 600, 35.0),
            city("Brisbane", "Australia/Brisbane", 600, 15.0),
        ],
        network: 1.1,
    },
    Country {
        code: "NL",
        share: 2.5,
        locales: &[("nl-NL", 85.0), ("en-NL", 15.0)],
        cities: &[
            city("Amsterdam", "Europe/Amsterdam", 60, 55.0),
            city("Rotterdam", "Europe/Amsterdam", 60, 25.0),
            city("Utrecht", "Europe/Amsterdam", 60, 20.0),
        ],
        network: 0.9,
    },
    Country {
        code: "JP",
        share: 2.0,
        locales: &[("ja-JP", 100.0)],
        cities: &[city("Tokyo", "Asia/Tokyo", 540, 70.0), city("Osaka", "Asia/Tokyo", 540, 30.0)],
        network: 0.9,
    },
    Country {
        code: "PT",
        share: 1.5,
        locales: &[("pt-PT", 100.0)],
        cities: &[city("Lisbon", "Europe/Lisbon", 0, 65.0), city("Porto", "Europe/Lisbon", 0, 35.0)],
        network: 1.0,
    },
    Country {
        code: "AR",
        share: 1.5,
        locales: &[("es-AR", 100.0)],
        cities: &[
            city("Buenos Aires", "America/Argentina/Buenos_Aires", -180, 80.0),
            city("Córdoba", "America/Argentina/Cordoba", -180, 20.0),
        ],
        network: 1.25,
    },
    Country {
        code: "PL",
        share: 1.5,
        locales: &[("pl-PL", 100.0)],
        cities: &[city("Warsaw", "Europe/Warsaw", 60, 60.0), city("Kraków", "Europe/Warsaw", 60, 40.0)],
        network: 1.0,
    },
    Country {
        code: "SE",
        share: 1.0,
        locales: &[("sv-SE", 100.0)],
        cities: &[city("Stockholm", "Europe/Stockholm", 60, 70.0), city("Gothenburg", "Europe/Stockholm", 60, 30.0)],
        network: 0.9,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit_their_compact_indexes() {
        assert!(COUNTRIES.len() < 256);
        for c in COUNTRIES {
            assert_eq!(c.code.len(), 2);
            assert!(!c.cities.is_empty() && c.cities.len() < 256, "{}", c.code);
            assert!(!c.locales.is_empty() && c.locales.len() < 255, "{}", c.code);
        }
        let total: f64 = COUNTRIES.iter().map(|c| c.share).sum();
        assert!((95.0..=105.0).contains(&total), "{total}");
    }
}
