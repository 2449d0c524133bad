//! `images:` (the sizes of container images and the nodes' pull bandwidth), a node's or a
//! pool's `images:` (what it holds at the start) and a container's `image:`.

use schedulers::ResourceKind;
use schedulers::images::{NodeImage, normalized_image_name};
use schedulers::yaml::message::shown;
use schedulers::yaml::{QuantityMap, Scalar};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Builder, Result};
use crate::scenario::images::ImageCatalog;

/// `images:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawImages {
    /// Image name to size (a quantity of bytes such as `800Mi`).
    sizes: Option<QuantityMap>,
    /// Bytes per second a node pulls (a quantity such as `50Mi`).
    pull_bandwidth: Option<Spanned<Scalar>>,
}

impl Builder<'_> {
    /// `images:`.
    pub(super) fn images(&self, raw: Option<&Spanned<RawImages>>) -> Result<ImageCatalog> {
        let mut catalog = ImageCatalog::default();
        let Some(raw) = raw else {
            return Ok(catalog);
        };
        for (name, size) in raw.value.sizes.iter().flat_map(|m| m.0.iter()) {
            let image = self.image_name(name, "images.sizes")?;
            let field = format!("images.sizes[{}]", shown(&name.value));
            let bytes = self.kube.quantity(ResourceKind::MEMORY, size, &field)?;
            if bytes <= 0 {
                return Err(self.kube.err(
                    &size.referenced,
                    &field,
                    format!("expected a positive size, got {}", shown(&size.value.0)),
                ));
            }
            if catalog.sizes.insert(image.clone(), bytes).is_some() {
                return Err(self.kube.err(
                    &name.referenced,
                    &field,
                    format!("image {image:?} is listed twice (names are compared with :latest added to an untagged name)"),
                ));
            }
        }
        if let Some(bw) = &raw.value.pull_bandwidth {
            let field = "images.pullBandwidth";
            let bytes = self.kube.quantity(ResourceKind::MEMORY, bw, field)?;
            if bytes <= 0 {
                return Err(self.kube.err(
                    &bw.referenced,
                    field,
                    format!(
                        "expected a positive number of bytes per second such as 50Mi, got {}",
                        shown(&bw.value.0)
                    ),
                ));
            }
            catalog.pull_bandwidth = Some(bytes as u64);
        }
        Ok(catalog)
    }

    /// A container image's name, normalized as the container runtime reports it.
    pub(super) fn image_name(&self, v: &Spanned<String>, field: &str) -> Result<String> {
        let name = self.kube.non_empty(v, field, "an image name")?;
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(self.kube.err(
                &v.referenced,
                field,
                format!(
                    "expected an image name without spaces, got {}",
                    shown(&name)
                ),
            ));
        }
        Ok(normalized_image_name(&name))
    }

    /// A node's or a pool's `images:`: what it holds at the start, each a name whose size
    /// `images.sizes` gives.
    pub(super) fn node_images(
        &self,
        list: Option<&Vec<Spanned<String>>>,
        base: &str,
    ) -> Result<Vec<NodeImage>> {
        let mut out: Vec<NodeImage> = Vec::new();
        for (i, v) in list.into_iter().flatten().enumerate() {
            let field = format!("{base}.images[{i}]");
            let name = self.image_name(v, &field)?;
            if !self.image_catalog.sizes.contains_key(&name) {
                return Err(self.kube.err(
                    &v.referenced,
                    &field,
                    format!("image {name:?} has no size: list it under images.sizes (a node reports each image's size)"),
                ));
            }
            if out.iter().all(|held| held.names[0] != name) {
                out.push(self.image_catalog.node_image(&name));
            }
        }
        Ok(out)
    }
}
