pub mod demo;
pub mod init;
pub mod record;
pub mod sync;
pub mod track;
