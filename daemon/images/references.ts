// The edge between Engine API strings and distribution's typed values: references and platforms parsed once here.

import type { OCIPlatform } from '../../api-spec/types.ts';
import {
  defaultPlatform,
  familiarCanonical,
  familiarName,
  InvalidReferenceError,
  normalizePlatform,
  type Platform,
  parseReference,
  type Reference,
} from '../../protocol/index.ts';
import { InvalidParameterError } from '../errors.ts';
import type { Operation } from './engine-errors.ts';

/** Parses a reference from a request; an invalid one is a 400 worded as dockerd words it. */
export function imageReference(value: string): Reference {
  try {
    return parseReference(value);
  } catch (err) {
    if (err instanceof InvalidReferenceError)
      throw new InvalidParameterError(`invalid reference format: ${err.message}`);
    throw err;
  }
}

/** The familiar form docker prints for a stored reference: alpine:latest, 127.0.0.1:5000/small:1. */
export function familiarOf(ref: string): string {
  return familiarCanonical(parseReference(ref));
}

/** The platform a pull selects: the one asked for, else linux on this machine's architecture. */
export function pullPlatform(platform: OCIPlatform | undefined): Platform {
  return platform ? normalizePlatform(platform) : defaultPlatform();
}

/** How failures of an operation on `ref` are worded: pulls name the tag as docker prints it (alpine:latest). */
export function operationOf(kind: 'pull' | 'push' | 'inspect', ref: Reference): Operation {
  return {
    kind: kind === 'push' ? 'push' : 'pull',
    familiarName: familiarName(ref),
    familiarRef: kind === 'pull' ? familiarCanonical(ref) : ref.familiar,
  };
}
