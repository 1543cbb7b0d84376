/**
 * What a command's cli.ts implements. Apart from the registry so that the commands import
 * these types without importing the registry, which imports every command (a cycle).
 */
import type { Command } from 'commander';

export type SetExit = (code: number) => void;
export type RegisterCommand = (program: Command, setExit: SetExit) => void;
