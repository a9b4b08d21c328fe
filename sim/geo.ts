/**
 * Places the simulator puts users and attackers in: real cities with their
 * coordinates (public geographic facts), their ISO 3166-1 country codes and UTC
 * offsets, and the IPv4 first octets used for their addresses.
 *
 * @module
 */

/** A city. */
export interface City {
  city: string;
  country: string;
  lat: number;
  lon: number;
  /** Hours from UTC (standard time). */
  utc_offset: number;
  /** First octets of the addresses given to users there. */
  octets: readonly number[];
}

/** Where the bank's customers live (weighted towards the home market by repetition). */
export const HOME_CITIES: readonly City[] = [
  { city: "Oslo", country: "NO", lat: 59.91, lon: 10.75, utc_offset: 1, octets: [84, 85, 88] },
  { city: "Bergen", country: "NO", lat: 60.39, lon: 5.32, utc_offset: 1, octets: [84, 85, 89] },
  { city: "Trondheim", country: "NO", lat: 63.43, lon: 10.4, utc_offset: 1, octets: [84, 88] },
  { city: "Stavanger", country: "NO", lat: 58.97, lon: 5.73, utc_offset: 1, octets: [85, 89] },
  { city: "Stockholm", country: "SE", lat: 59.33, lon: 18.07, utc_offset: 1, octets: [78, 81] },
  { city: "Copenhagen", country: "DK", lat: 55.68, lon: 12.57, utc_offset: 1, octets: [80, 87] },
  { city: "Berlin", country: "DE", lat: 52.52, lon: 13.4, utc_offset: 1, octets: [91, 93] },
  { city: "London", country: "GB", lat: 51.51, lon: -0.13, utc_offset: 0, octets: [81, 86] },
  { city: "Paris", country: "FR", lat: 48.86, lon: 2.35, utc_offset: 1, octets: [82, 90] },
  { city: "Madrid", country: "ES", lat: 40.42, lon: -3.7, utc_offset: 1, octets: [83, 95] },
];

/** Where attackers' addresses are (hosting and residential proxies far from home). */
export const ATTACKER_CITIES: readonly City[] = [
  {
    city: "Sao Paulo",
    country: "BR",
    lat: -23.55,
    lon: -46.63,
    utc_offset: -3,
    octets: [177, 189],
  },
  { city: "Lagos", country: "NG", lat: 6.52, lon: 3.38, utc_offset: 1, octets: [102, 105] },
  { city: "Hanoi", country: "VN", lat: 21.03, lon: 105.85, utc_offset: 7, octets: [113, 171] },
  { city: "Moscow", country: "RU", lat: 55.76, lon: 37.62, utc_offset: 3, octets: [5, 95] },
  { city: "Ashburn", country: "US", lat: 39.04, lon: -77.49, utc_offset: -5, octets: [34, 52] },
  { city: "Singapore", country: "SG", lat: 1.35, lon: 103.82, utc_offset: 8, octets: [43, 128] },
];

/** User agents in the formats of the RBA login data set. */
export const USER_AGENTS: readonly string[] = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
];

/** Tools attackers' traffic announces itself as. */
export const ATTACK_AGENTS: readonly string[] = [
  "python-requests/2.31.0",
  "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.110 Safari/537.36",
  "curl/8.4.0",
];
