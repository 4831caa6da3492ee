import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code units, numbers as ECMAScript
 * prints them, no insignificant whitespace. The `canonicalize` package (by one of the RFC's authors)
 * does the work; it throws on NaN, ±Infinity and lone surrogates, which JSON cannot carry.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('cannot canonicalise a value that has no JSON form');
  return text;
}

/** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A value as plain JSON: undefined members dropped, NaN and ±Infinity turned into null, class
 * instances into their JSON form. What is hashed is exactly what a reader of the export sees.
 */
export function plainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
