#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and drives it, for the CLI tests that need a terminal
(raw mode and its restoration, Ctrl-C reaching the guest, the terminal size).

usage: pty-drive.py ROWS COLS -- COMMAND ARGS...   with a JSON list of steps on stdin:
  {"expect": REGEX, "timeout": SEC}   wait until the output (after the last match) matches
  {"send": TEXT}                      type TEXT
  {"signal": "SIGTERM"}               send a signal to the command
  {"termios": true}                   record whether the terminal is in canonical mode with echo
  {"resize": [ROWS, COLS]}            resize the terminal (the command gets SIGWINCH)
  {"exit": SEC}                       wait up to SEC (default 30) for the command to end (last step)
Prints one JSON object: {"output", "status" (exit code, or -N for signal N), "termios" [...],
"error" (the step that failed, or null)}.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[4:]
steps = json.load(sys.stdin)

pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

out = b''
cursor = 0
status = None
modes = []
error = None
exit_wait = 30


def pump(timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    out += data
    return True


def cooked():
    lflag = termios.tcgetattr(fd)[3]
    return bool(lflag & termios.ICANON) and bool(lflag & termios.ECHO)


for step in steps:
    if 'expect' in step:
        rx = re.compile(step['expect'].encode())
        deadline = time.time() + step.get('timeout', 30)
        while True:
            m = rx.search(out, cursor)
            if m:
                cursor = m.end()
                break
            left = deadline - time.time()
            if left <= 0 or not pump(min(left, 0.5)):
                if not rx.search(out, cursor):
                    error = step
                break
        if error:
            break
    elif 'send' in step:
        os.write(fd, step['send'].encode())
    elif 'signal' in step:
        os.kill(pid, getattr(signal, step['signal']))
    elif 'termios' in step:
        modes.append(cooked())
    elif 'resize' in step:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', step['resize'][0], step['resize'][1], 0, 0))
    elif 'exit' in step:
        exit_wait = step['exit']

# Record the terminal mode the command left, then let it finish (or end it).
deadline = time.time() + exit_wait
while time.time() < deadline:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
    pump(0.2)
if status is None:
    os.kill(pid, signal.SIGKILL)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    error = error or {'exit': 'did not exit'}
try:
    modes.append(cooked())
except termios.error:
    modes.append(None)
while pump(0.1):
    pass
print(json.dumps({'output': out.decode('latin1'), 'status': status, 'termios': modes, 'error': error}))
