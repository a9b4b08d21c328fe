/**
 * The places of the benign-traffic generator: customers' home cities, where their
 * mobile operator's traffic comes out (and so where an IP-geolocation database puts a
 * phone on mobile data), where they travel to, and money: currencies, rents, salaries
 * and paydays by country.
 *
 * Sources: coordinates are public geographic facts. Mobile data leaves an operator's
 * network through a few gateways, usually in the capital, and geolocation databases place
 * carrier-grade NAT addresses there (MaxMind's and IP2Location's published accuracy notes:
 * mobile addresses are placed at the carrier's gateway, often hundreds of km off); a phone
 * roaming abroad is routed home (GSMA "home routing", the EU roaming default), so it looks
 * as if it were in the home country. Rents and net salaries are rounded figures of the
 * national statistics offices (SSB, SCB, Statistics Denmark, Destatis, ONS, INSEE, INE) and
 * Numbeo for city rents, as orders of magnitude; paydays are the common practice in each
 * country (Norway: the 20th; Sweden: the 25th; Denmark, Germany, the UK, France, Spain: the
 * last working day of the month). Exchange rates: early-2026 rounded ECB reference rates.
 *
 * @module
 */

/** A place with coordinates and a UTC offset (standard time: the generator runs in winter). */
export interface Place {
  city: string;
  country: string;
  lat: number;
  lon: number;
  utc_offset: number;
  /** The /16 the place's fixed-line and Wi-Fi addresses are drawn from. */
  net: string;
}

/** A country's money and mobile network. */
export interface Country {
  code: string;
  currency: string;
  /** Units of the currency per euro. */
  per_eur: number;
  /** Day of the month salaries come (0: the last working day). */
  payday: number;
  /** The city where the main mobile operator's traffic leaves its network. */
  gateway: string;
  /** The /16 of the operator's carrier-grade NAT pool. */
  cgnat: string;
}

const p = (
  city: string,
  country: string,
  lat: number,
  lon: number,
  utc_offset: number,
  net: string,
): Place => ({ city, country, lat, lon, utc_offset, net });

/** Home cities, each with its weight in the customer base (a Nordic bank with EU customers). */
export const HOMES: readonly { place: Place; weight: number }[] = [
  { place: p("Oslo", "NO", 59.91, 10.75, 1, "84.208"), weight: 14 },
  { place: p("Bergen", "NO", 60.39, 5.32, 1, "84.210"), weight: 6 },
  { place: p("Trondheim", "NO", 63.43, 10.4, 1, "84.212"), weight: 5 },
  { place: p("Stavanger", "NO", 58.97, 5.73, 1, "84.214"), weight: 4 },
  { place: p("Tromsø", "NO", 69.65, 18.96, 1, "84.216"), weight: 3 },
  { place: p("Bodø", "NO", 67.28, 14.4, 1, "84.218"), weight: 2 },
  { place: p("Stockholm", "SE", 59.33, 18.07, 1, "78.70"), weight: 8 },
  { place: p("Gothenburg", "SE", 57.71, 11.97, 1, "78.72"), weight: 4 },
  { place: p("Malmö", "SE", 55.6, 13.0, 1, "78.74"), weight: 3 },
  { place: p("Luleå", "SE", 65.58, 22.15, 1, "78.76"), weight: 2 },
  { place: p("Copenhagen", "DK", 55.68, 12.57, 1, "87.48"), weight: 6 },
  { place: p("Aarhus", "DK", 56.16, 10.2, 1, "87.50"), weight: 3 },
  { place: p("Berlin", "DE", 52.52, 13.4, 1, "91.64"), weight: 4 },
  { place: p("Munich", "DE", 48.14, 11.58, 1, "91.66"), weight: 3 },
  { place: p("Hamburg", "DE", 53.55, 9.99, 1, "91.68"), weight: 2 },
  { place: p("London", "GB", 51.51, -0.13, 0, "81.96"), weight: 5 },
  { place: p("Edinburgh", "GB", 55.95, -3.19, 0, "81.98"), weight: 2 },
  { place: p("Manchester", "GB", 53.48, -2.24, 0, "81.100"), weight: 2 },
  { place: p("Paris", "FR", 48.86, 2.35, 1, "82.64"), weight: 4 },
  { place: p("Marseille", "FR", 43.3, 5.37, 1, "82.66"), weight: 2 },
  { place: p("Madrid", "ES", 40.42, -3.7, 1, "83.32"), weight: 3 },
  { place: p("Barcelona", "ES", 41.39, 2.17, 1, "83.34"), weight: 2 },
  { place: p("Málaga", "ES", 36.72, -4.42, 1, "83.36"), weight: 1 },
];

/** Where the countries' operators route mobile data out (geolocated there). */
const GATEWAYS: Readonly<Record<string, Place>> = {
  NO: p("Oslo", "NO", 59.91, 10.75, 1, "84.208"),
  SE: p("Stockholm", "SE", 59.33, 18.07, 1, "78.70"),
  DK: p("Copenhagen", "DK", 55.68, 12.57, 1, "87.48"),
  DE: p("Frankfurt", "DE", 50.11, 8.68, 1, "91.70"),
  GB: p("London", "GB", 51.51, -0.13, 0, "81.96"),
  FR: p("Paris", "FR", 48.86, 2.35, 1, "82.64"),
  ES: p("Madrid", "ES", 40.42, -3.7, 1, "83.32"),
};

/** Countries of the customer base. */
export const COUNTRIES: Readonly<Record<string, Country>> = {
  NO: { code: "NO", currency: "NOK", per_eur: 11.6, payday: 20, gateway: "Oslo", cgnat: "77.16" },
  SE: {
    code: "SE",
    currency: "SEK",
    per_eur: 11.1,
    payday: 25,
    gateway: "Stockholm",
    cgnat: "90.224",
  },
  DK: {
    code: "DK",
    currency: "DKK",
    per_eur: 7.46,
    payday: 0,
    gateway: "Copenhagen",
    cgnat: "5.186",
  },
  DE: { code: "DE", currency: "EUR", per_eur: 1, payday: 0, gateway: "Frankfurt", cgnat: "109.40" },
  GB: { code: "GB", currency: "GBP", per_eur: 0.86, payday: 0, gateway: "London", cgnat: "92.40" },
  FR: { code: "FR", currency: "EUR", per_eur: 1, payday: 0, gateway: "Paris", cgnat: "90.84" },
  ES: { code: "ES", currency: "EUR", per_eur: 1, payday: 0, gateway: "Madrid", cgnat: "88.24" },
};

/** Monthly rent of a flat in the city, in euros (orders of magnitude, see above). */
export const RENT_EUR: Readonly<Record<string, number>> = {
  NO: 1_250,
  SE: 1_000,
  DK: 1_150,
  DE: 1_000,
  GB: 1_400,
  FR: 950,
  ES: 900,
};

/** Median net monthly salary, in euros (orders of magnitude, see above). */
export const SALARY_EUR: Readonly<Record<string, number>> = {
  NO: 3_700,
  SE: 2_800,
  DK: 3_600,
  DE: 2_700,
  GB: 2_700,
  FR: 2_200,
  ES: 1_700,
};

/** Where the country's phones appear to be on mobile data, at home or roaming abroad. */
export function gatewayOf(country: string): Place {
  return GATEWAYS[country]!;
}

/**
 * Trip destinations from a Nordic/EU customer base, with weights: domestic and short
 * business trips, winter-sun holidays (the Canaries, Alicante, Thailand are the most
 * common Nordic winter destinations in tour operators' published figures), European cities
 * and a few long-haul.
 */
export const DESTINATIONS: readonly { place: Place; weight: number }[] = [
  { place: p("Oslo", "NO", 59.91, 10.75, 1, "84.209"), weight: 4 },
  { place: p("Stockholm", "SE", 59.33, 18.07, 1, "78.71"), weight: 3 },
  { place: p("Copenhagen", "DK", 55.68, 12.57, 1, "87.49"), weight: 3 },
  { place: p("London", "GB", 51.51, -0.13, 0, "81.97"), weight: 3 },
  { place: p("Berlin", "DE", 52.52, 13.4, 1, "91.65"), weight: 2 },
  { place: p("Las Palmas", "ES", 28.12, -15.43, 0, "83.40"), weight: 4 },
  { place: p("Alicante", "ES", 38.35, -0.48, 1, "83.42"), weight: 3 },
  { place: p("Bangkok", "TH", 13.76, 100.5, 7, "171.96"), weight: 2 },
  { place: p("Phuket", "TH", 7.88, 98.39, 7, "171.98"), weight: 1 },
  { place: p("New York", "US", 40.71, -74.01, -5, "72.229"), weight: 2 },
  { place: p("Dubai", "AE", 25.2, 55.27, 4, "94.200"), weight: 1 },
  { place: p("Tokyo", "JP", 35.68, 139.69, 9, "126.100"), weight: 1 },
];

/** Great-circle distance in km (haversine, Earth radius 6,371 km). */
export function km(a: Place, b: Place): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Block hours of a flight over `distance_km`: airliners cruise at 800–900 km/h; with
 * taxiing, climb and descent a scheduled flight averages about 750 km/h over the great
 * circle, plus half an hour (airlines' published block times, e.g. Oslo–London 2 h 05,
 * Oslo–Bangkok 10 h 40 with a connection).
 */
export function flightHours(distance_km: number): number {
  return distance_km / 750 + 0.5;
}
