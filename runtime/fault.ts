/**
 * Guest faults: thrown by instruction handlers, memory accesses and the VMM, caught by the run
 * loop, and delivered to the guest through its IDT (or the real-mode IVT). Not a JS Error: no
 * stack capture, because page faults are a normal, frequent event in a guest kernel.
 */

/** `errorCode` value for exceptions that push no error code. */
export const NO_ERROR_CODE = -1;

export class GuestFault {
  constructor(
    /** Exception vector (EX_* in translator/abi.ts). */
    readonly vector: number,
    /** Error code pushed with the exception, or NO_ERROR_CODE. */
    readonly errorCode: number = NO_ERROR_CODE,
  ) {}

  toString(): string {
    const names = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#MP', '#TS', '#NP', '#SS', '#GP', '#PF', '#15', '#MF', '#AC'];
    const n = names[this.vector] ?? `vector ${this.vector}`;
    return this.errorCode === NO_ERROR_CODE ? n : `${n}(0x${this.errorCode.toString(16)})`;
  }
}

/** Throws a fault; typed `never` so callers can use it in expressions. */
export function fault(vector: number, errorCode: number = NO_ERROR_CODE): never {
  throw new GuestFault(vector, errorCode);
}

/** Guest-visible machine events that end a run slice rather than being delivered to the guest. */
export class MachineHalt {
  constructor(readonly reason: 'triple-fault' | 'shutdown' | 'exit', readonly detail: string) {}
}
