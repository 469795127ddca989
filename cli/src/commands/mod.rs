pub mod coverage;
pub mod demo;
pub mod init;
pub mod record;
pub mod sync;
pub mod signboard;
pub mod streets;
pub mod track;
