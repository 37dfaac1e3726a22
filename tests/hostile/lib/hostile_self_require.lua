-- A module that requires itself (tests/hostile/sandbox_require_self.lua).
require 'hostile_self_require'
