//! ADMS ("push", iclock) protocol: pure parsing and rendering, no I/O.
