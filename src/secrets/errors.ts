/**
 * Typed errors of the secret vault. None of them ever carries a secret value: messages name
 * secrets, files and key ids only.
 */
import { OperationError, UsageError } from '../core/errors.ts';

/** No key to decrypt with: neither TPA_SECRET_KEY nor the key file is there. */
export class SecretKeyMissingError extends OperationError {
  constructor(readonly keyFile: string) {
    super(`no secret key: ${keyFile} does not exist and TPA_SECRET_KEY is not set`, {
      step: 'secrets',
      hint:
        `copy the key file that was used when this cluster directory was configured to ${keyFile} ` +
        `(mode 0600), point TPA_KEY_FILE at it, or set TPA_SECRET_KEY to its base64 contents`,
    });
  }
}

/** The key file or TPA_SECRET_KEY exists but cannot be used (format, permissions). */
export class SecretKeyInvalidError extends OperationError {
  constructor(message: string, hint: string) {
    super(message, { step: 'secrets', hint });
  }
}

/** The secrets were encrypted with another key than the one we have. */
export class SecretKeyMismatchError extends OperationError {
  constructor(
    readonly expectedKeyId: string,
    readonly actualKeyId: string,
    source: string,
  ) {
    super(
      `the secrets of this cluster directory were encrypted with key ${expectedKeyId}, ` +
        `but the key from ${source} is ${actualKeyId}`,
      {
        step: 'secrets',
        hint: 'use the key file that was used when this cluster directory was configured (TPA_KEY_FILE or TPA_SECRET_KEY)',
      },
    );
  }
}

/** AES-GCM authentication failed: the ciphertext, IV, tag or name was changed. */
export class SecretTamperedError extends OperationError {
  constructor(
    readonly secretName: string,
    file: string,
  ) {
    super(`secret ${secretName} in ${file} failed its integrity check (modified or corrupted)`, {
      step: 'secrets',
      hint: `restore ${file} from git (git -C <dir> log -p -- secrets.enc.json) or remove the entry and regenerate it`,
    });
  }
}

/** secrets.enc.json is not a file this version of tpa can read. */
export class SecretStoreError extends OperationError {
  constructor(file: string, problem: string) {
    super(`cannot read ${file}: ${problem}`, {
      step: 'secrets',
      hint: `restore ${file} from git history`,
    });
  }
}

/** A secret name that is not in the vault; lists the ones that are. */
export class UnknownSecretError extends UsageError {
  constructor(
    readonly secretName: string,
    readonly known: string[],
  ) {
    super(
      `no secret named ${secretName}`,
      known.length ? `known secrets: ${known.join(', ')}` : 'this cluster directory has no secrets yet',
    );
  }
}

/** A secret name that cannot be stored (names are public, lower-case identifiers). */
export class InvalidSecretNameError extends UsageError {
  constructor(name: string) {
    super(
      `invalid secret name ${JSON.stringify(name)}`,
      'use lower-case letters, digits and underscores, starting with a letter (at most 64 characters)',
    );
  }
}
