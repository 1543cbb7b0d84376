/** Option parsers shared by commands. */
import { InvalidArgumentError } from 'commander';

/** a whole number within [min, max], else commander's usage error (exit 2) naming the option */
export function wholeNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${name} takes a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}
